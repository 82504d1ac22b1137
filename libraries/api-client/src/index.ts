import createClient, { type Client, type Middleware } from 'openapi-fetch';
import type { paths } from './openapi.js';

export type { components, operations, paths } from './openapi.js';

/** The public API as gateway/openapi.yaml documents it: paths, parameters, bodies and answers typed. */
export type CouponRushApi = Client<paths>;

/** A client of a gateway: the document's paths as written (`/api/...`). */
export function gatewayApi(gatewayUrl: string): CouponRushApi {
  return createClient<paths>({ baseUrl: gatewayUrl });
}

// The gateway's routes drop the /api segment (stripPrefix: 1) before a service sees the request.
const belowTheGateway: Middleware = {
  onRequest({ request }) {
    const url = new URL(request.url);
    url.pathname = url.pathname.replace(/^\/api(?=\/)/, '');
    return new Request(url, request);
  },
};

/**
 * A client straight at one service, with no gateway in front: the same documented operations, asked
 * the way the gateway forwards them. The caller's identity then goes in the internal headers the
 * gateway would have added, not in a bearer token.
 */
export function serviceApi(serviceUrl: string): CouponRushApi {
  const client = createClient<paths>({ baseUrl: serviceUrl });
  client.use(belowTheGateway);
  return client;
}

/** The Authorization header of a caller holding an access token (from logIn, or signed for a test). */
export const bearer = (accessToken: string) => ({ authorization: `Bearer ${accessToken}` });
