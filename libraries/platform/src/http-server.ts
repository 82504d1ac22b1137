import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Express } from 'express';

export interface ListeningServer {
  server: http.Server;
  port: number;
  close(): Promise<void>;
}

/** Listens (loopback unless told otherwise) with explicit timeouts; port 0 picks an ephemeral port. */
export function listen(app: Express | ((req: http.IncomingMessage, res: http.ServerResponse) => unknown), port: number, requestTimeoutMs: number, host = '127.0.0.1'): Promise<ListeningServer> {
  const server = http.createServer(app as http.RequestListener);
  // Upstream proxies keep connections alive; our idle timeout must outlive theirs.
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  server.requestTimeout = requestTimeoutMs;
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve({
        server,
        port: (server.address() as AddressInfo).port,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            server.closeIdleConnections();
            setTimeout(() => server.closeAllConnections(), 2000).unref();
          }),
      });
    });
  });
}
