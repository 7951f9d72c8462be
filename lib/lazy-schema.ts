/**
 * Schemas built on first use. zod/mini builds a schema when its constructor runs, and a module's schemas all run
 * when the module is imported: a function importing `lib/nodes/schemas.ts` for one query schema would build the
 * register, compose and action bodies too, at every cold start (`bench/README.md`, cold-start). `lazySchema`
 * defers that to the first time the schema is used — parsed, composed into another schema, or converted to JSON
 * Schema — and then behaves as the schema itself, the same object to zod every time.
 *
 * Mark each call with esbuild's pure annotation (a `@__PURE__` block comment before `lazySchema(`): esbuild then drops
 * the schemas a bundle never uses, and a module none of whose exports a bundle uses adds nothing to it.
 */

const BUILT = new WeakMap<object, () => object>();

/**
 * `build` runs once, on first use; until then nothing of the schema exists. The returned object forwards every
 * operation to the built schema, so callers (and zod, when the schema sits inside another) see no difference.
 */
export function lazySchema<T extends object>(build: () => T): T {
  let built: T | undefined;
  const target = (): T => {
    built ??= build();
    return built;
  };
  const proxy = new Proxy({} as T, {
    get: (_placeholder, key) => Reflect.get(target(), key),
    set: (_placeholder, key, value) => Reflect.set(target(), key, value),
    has: (_placeholder, key) => Reflect.has(target(), key),
    ownKeys: () => Reflect.ownKeys(target()),
    getOwnPropertyDescriptor: (_placeholder, key) => {
      const descriptor = Reflect.getOwnPropertyDescriptor(target(), key);
      // A proxy may not report a property as non-configurable that its placeholder lacks.
      return descriptor && { ...descriptor, configurable: true };
    },
    defineProperty: (_placeholder, key, descriptor) => Reflect.defineProperty(target(), key, descriptor),
    deleteProperty: (_placeholder, key) => Reflect.deleteProperty(target(), key),
    getPrototypeOf: () => Reflect.getPrototypeOf(target()),
  });
  BUILT.set(proxy, () => built as object);
  return proxy;
}

/** Whether `value` comes from `lazySchema`. */
export function isLazySchema(value: unknown): boolean {
  return typeof value === "object" && value !== null && BUILT.has(value);
}

/** Whether a lazy schema was built already (tests: importing a module builds nothing). */
export function isBuilt(value: object): boolean {
  return Boolean(BUILT.get(value)?.());
}
