"""Serve Keystone's public WSGI application for Valence's tests and local stack.

Bootstraps in the same process as the server (admin user, project, roles, region and the identity endpoints for
this port), which saves a second interpreter start. Bootstrap is idempotent: on a copied database it updates the
admin password and endpoint URLs. Usage:

    keystone_serve.py CONFIG_FILE HOST PORT REGION  (the admin password is read from stdin)
"""

import sys
import wsgiref.simple_server


class QuietHandler(wsgiref.simple_server.WSGIRequestHandler):
    # Keystone logs every request to its own log file; stderr stays for start-up failures.
    def log_message(self, format, *args):
        pass


def main():
    config_file, host, port, region = sys.argv[1:5]
    admin_password = sys.stdin.readline().rstrip("\n")
    sys.argv = ["keystone", "--config-file", config_file]

    from keystone.server import wsgi

    application = wsgi.initialize_public_application()

    # Backends are loaded by the application already; loading them twice trips keystone's provider registry.
    from keystone.cmd import bootstrap

    bootstrap.backends.load_backends = lambda: {}
    bootstrapper = bootstrap.Bootstrapper()
    url = "http://%s:%s/v3/" % (host, port)
    bootstrapper.admin_password = admin_password
    bootstrapper.admin_username = "admin"
    bootstrapper.project_name = "admin"
    bootstrapper.admin_role_name = "admin"
    bootstrapper.service_name = "keystone"
    bootstrapper.service_id = None
    bootstrapper.public_url = url
    bootstrapper.internal_url = url
    bootstrapper.admin_url = url
    bootstrapper.region_id = region
    bootstrapper.endpoints = {}
    bootstrapper.bootstrap()

    server = wsgiref.simple_server.make_server(host, int(port), application, handler_class=QuietHandler)
    print("keystone listening on %s" % url, flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
