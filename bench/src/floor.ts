import http from 'node:http';
import { Pool } from 'undici';
import { GATEWAY_ISSUER, InternalTokenMinter, createTokenKey, createTokenVerifier } from '@coupon-rush/platform';

/**
 * The bench's floor: the least a gateway in front of issue-coupon must do — verify the token (the
 * platform's verifier), relay the user as an internal token (the platform's minter, reused per user
 * as the gateway reuses it), forward over a keep-alive pool and pass the
 * answer back — and nothing else (no route table, discovery, metrics, access log or tracing). The
 * gateway's cost is read against it. It uses undici the cheapest way this box measured (the
 * dispatch API, the answer written with its headers in one write), as the gateway does: with
 * `pool.request` and a body stream it spent more CPU per request than the whole gateway, and a
 * floor above the gateway measures nothing. Prints `FLOOR_LISTENING <port>` once it listens.
 */
const upstream = new Pool(process.env.FLOOR_UPSTREAM ?? 'http://127.0.0.1:8083', { connections: Number(process.env.FLOOR_CONNECTIONS ?? 64) });
const verify = createTokenVerifier(createTokenKey(process.env.JWT_SECRET ?? ''), process.env.JWT_ISSUER ?? 'coupon-rush');
const minter = new InternalTokenMinter(createTokenKey(process.env.INTERNAL_TOKEN_SECRET ?? ''), GATEWAY_ISSUER, 30);

function answer(res: http.ServerResponse, status: number, code: string): void {
  res.writeHead(status, { 'content-type': 'application/problem+json' });
  res.end(JSON.stringify({ status, code }));
}

const server = http.createServer((req, res) => {
  const auth = req.headers.authorization;
  const claims = auth?.startsWith('Bearer ') ? verify(auth.slice(7).trim()) : undefined;
  if (!claims) return answer(res, 401, 'UNAUTHORIZED');
  if (!req.url?.startsWith('/api/')) return answer(res, 404, 'NOT_FOUND');
  // The bench's issue requests carry no body.
  req.resume();
  let status = 502;
  let contentType = 'application/json';
  const chunks: Buffer[] = [];
  upstream.dispatch(
    { method: req.method as 'POST', path: req.url.slice('/api'.length), headers: { authorization: `Bearer ${minter.forUser(claims.sub, claims.role, 'issue-coupon-service')}` } },
    {
      onRequestStart: () => {},
      onResponseStart: (_controller, statusCode, headers) => {
        status = statusCode;
        contentType = String(headers['content-type'] ?? contentType);
      },
      onResponseData: (_controller, chunk) => {
        chunks.push(chunk);
      },
      onResponseEnd: () => {
        const text = Buffer.concat(chunks).toString('latin1');
        res.writeHead(status, { 'content-type': contentType, 'content-length': text.length });
        res.end(text, 'latin1');
      },
      onResponseError: () => answer(res, 502, 'BAD_GATEWAY'),
    },
  );
});
server.keepAliveTimeout = 65_000;
server.listen(0, '127.0.0.1', () => console.log(`FLOOR_LISTENING ${(server.address() as { port: number }).port}`));
// A failure to close the pool exits non-zero, as its unhandled rejection did, and says what failed.
process.on('SIGTERM', () =>
  server.close(() => {
    upstream.close().then(
      () => process.exit(0),
      (err: unknown) => {
        console.error(`floor: closing the upstream pool failed: ${String(err)}`);
        process.exit(1);
      },
    );
  }),
);
