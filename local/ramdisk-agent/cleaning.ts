import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";

/**
 * Ironic configuration that cleans as production does (`[conductor] automated_clean = true`, Ironic's default):
 * `provide` then boots the deploy ramdisk and waits in `clean wait` for its agent. What Ironic needs for that on
 * one machine: a deploy kernel and ramdisk it may read (`file://` inside `file_url_allowed_paths`; the agent is
 * emulated, so any small files do), writable PXE and HTTP folders, and its own URL to hand to the ramdisk. Pass
 * the result as `startIronic({ port, config })`.
 */
export async function cleaningIronicConfig(options: {
  /** A folder of Ironic's own (its data dir): images and PXE files go below it. */
  dataDir: string;
  /** The URL Ironic will answer on (pick the port before starting it). */
  ironicUrl: string;
  /** `[conductor] clean_callback_timeout`: how long `clean wait` waits for an agent. @default 1800 */
  callbackTimeoutSeconds?: number;
}): Promise<Record<string, Record<string, string | number | boolean>>> {
  const images = join(options.dataDir, "images");
  const folders = {
    images,
    tftp: join(options.dataDir, "tftpboot"),
    tftpMaster: join(options.dataDir, "tftpboot", "master_images"),
    pxeImages: join(options.dataDir, "pxe-images"),
    instanceMaster: join(options.dataDir, "master-images"),
    http: join(options.dataDir, "httpboot"),
  };
  for (const folder of Object.values(folders)) await mkdir(folder, { recursive: true, mode: 0o700 });
  const kernel = join(images, "deploy.kernel");
  const ramdisk = join(images, "deploy.initramfs");
  await writeFile(kernel, "emulated deploy kernel\n", { mode: 0o600 });
  await writeFile(ramdisk, "emulated deploy ramdisk\n", { mode: 0o600 });
  return {
    conductor: {
      automated_clean: true,
      deploy_kernel: `file://${kernel}`,
      deploy_ramdisk: `file://${ramdisk}`,
      file_url_allowed_paths: images,
      clean_callback_timeout: options.callbackTimeoutSeconds ?? 1800,
    },
    service_catalog: { endpoint_override: options.ironicUrl },
    pxe: {
      tftp_root: folders.tftp,
      tftp_master_path: folders.tftpMaster,
      images_path: folders.pxeImages,
      instance_master_path: folders.instanceMaster,
    },
    deploy: { http_root: folders.http },
  };
}
