// jsforce reads the proxy variables when it is loaded and ignores NO_PROXY (salesforce-rest §6.6):
// the simulators are on 127.0.0.1. Imported first by run.ts.
for (const name of ["http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY"]) delete process.env[name];
