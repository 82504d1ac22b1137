import fs from 'node:fs';
import Ajv2020, { type ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { expect } from 'chai';
import YAML from 'yaml';
import type { RunningService } from '@coupon-rush/platform';
import { answerOf, eventually, http, isolatedOverrides, RUN_ID, tokenFor, type HttpAnswer } from '@coupon-rush/testkit';
import { bearer, gatewayApi, type CouponRushApi } from '@coupon-rush/api-client';
import { start as startConsole } from '@coupon-rush/console-service';
import { start as startCoupon } from '@coupon-rush/coupon-service';
import { start as startIssue } from '@coupon-rush/issue-coupon-service';
import { start as startUser } from '@coupon-rush/user-service';
import type { GatewayConfig } from '@coupon-rush/gateway/config';
import { RouteTable } from '@coupon-rush/gateway/route-table';
import { OPENAPI_FILE, start as startGateway } from '@coupon-rush/gateway';

const METHODS = ['get', 'post', 'put', 'patch', 'delete'];
const pointer = (...parts: string[]) => parts.map((p) => p.replace(/~/g, '~0').replace(/\//g, '~1')).join('/');

/** What a call of the typed client resolves to: the documented body of a success or of a refusal, and the response. */
interface Answered {
  data?: unknown;
  error?: unknown;
  response: Response;
}

describe('the OpenAPI document, against real answers through the gateway', function () {
  this.timeout(120_000);
  const services: Array<RunningService<unknown>> = [];
  let gateway: RunningService<GatewayConfig>;
  let base: string;
  let doc: any;
  let api: CouponRushApi;
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats(ajv);
  const validators = new Map<string, ValidateFunction>();
  const checked = new Set<string>();
  const overrides = isolatedOverrides();
  const admin = tokenFor(1, 'ADMIN');

  /** The answer's status, media type and body must be the ones documented for the operation. */
  function conforms(method: string, template: string, res: HttpAnswer): HttpAnswer {
    const operation = doc.paths[template]?.[method.toLowerCase()];
    expect(operation, `${method} ${template} is documented`).to.exist;
    const status = String(res.status);
    let documented = operation.responses[status];
    let at = pointer('paths', template, method.toLowerCase(), 'responses', status);
    expect(documented, `${method} ${template} documents ${status} (got ${JSON.stringify(res.body)})`).to.exist;
    if (documented.$ref) {
      at = documented.$ref.slice(2);
      documented = at.split('/').reduce((node: any, key: string) => node[key.replace(/~1/g, '/').replace(/~0/g, '~')], doc);
    }
    checked.add(`${method} ${template} ${status}`);
    if (!documented.content) {
      expect(res.body, `${method} ${template} ${status} has no body`).to.equal(undefined);
      return res;
    }
    const mediaType = (res.headers.get('content-type') ?? '').split(';')[0];
    expect(Object.keys(documented.content), `${method} ${template} ${status}`).to.include(mediaType);
    const ref = `openapi#/${at}/${pointer('content', mediaType, 'schema')}`;
    if (!validators.has(ref)) validators.set(ref, ajv.compile({ $ref: ref }));
    const validate = validators.get(ref)!;
    expect(validate(res.body), `${method} ${template} ${status}: ${ajv.errorsText(validate.errors)} in ${JSON.stringify(res.body).slice(0, 300)}`).to.equal(true);
    return res;
  }

  /**
   * One call of the typed client: it must answer the status the case is for (and the problem code,
   * when given); the client's middleware has checked that the answer is the documented one. Any
   * documented status would pass the schema check alone, a 201 where a 403 is due included.
   */
  async function answered<R extends Answered>(expected: number | [number, string], pending: Promise<R>): Promise<R> {
    const res = await pending;
    const [status, code] = Array.isArray(expected) ? expected : [expected, undefined];
    expect(res.response.status, `${res.response.url}: ${JSON.stringify(res.data ?? res.error)?.slice(0, 200)}`).to.equal(status);
    if (code) expect((res.error as { code?: string } | undefined)?.code, res.response.url).to.equal(code);
    return res;
  }

  /** The typed body of a documented success. */
  const succeeded = async <R extends Answered>(status: number, pending: Promise<R>) => (await answered(status, pending)).data as NonNullable<R['data']>;

  /**
   * A request the document does not allow (a malformed body, a field missing or of the wrong type, a
   * path that is not a template's), which the typed client cannot express: sent raw, with the same
   * checks.
   */
  const call = async (method: string, template: string, path: string, expected: number | [number, string], opts: Parameters<typeof http>[2] = {}) => {
    const res = await http(method, `${base}${path}`, opts);
    const [status, code] = Array.isArray(expected) ? expected : [expected, undefined];
    expect(res.status, `${method} ${path}: ${JSON.stringify(res.body)?.slice(0, 200)}`).to.equal(status);
    if (code) expect(res.body?.code, `${method} ${path}`).to.equal(code);
    return conforms(method, template, res);
  };

  before(async () => {
    services.push(await startUser({ port: 0, configServerUrl: null, overrides }));
    services.push(await startCoupon({ port: 0, configServerUrl: null, overrides }));
    services.push(await startIssue({ port: 0, configServerUrl: null, overrides }));
    services.push(await startConsole({ port: 0, configServerUrl: null, overrides }));
    gateway = await startGateway({ port: 0, configServerUrl: null, overrides });
    services.push(gateway);
    base = gateway.url;
    doc = (await http('GET', `${base}/api/docs`)).body;
    ajv.addSchema(doc, 'openapi');
    api = gatewayApi(base);
    api.use({
      async onResponse({ request, response, schemaPath }) {
        conforms(request.method, schemaPath, await answerOf(response.clone()));
      },
    });
  });

  after(async () => {
    for (const s of services.reverse()) await s.stop();
  });

  it('when GET /api/docs is asked without a token, then it answers the repo file as JSON', async () => {
    const res = await http('GET', `${base}/api/docs`);
    expect(res.status).to.equal(200);
    expect(res.headers.get('content-type')).to.match(/^application\/json/);
    expect(res.body).to.deep.equal(YAML.parse(fs.readFileSync(OPENAPI_FILE, 'utf8')));
    conforms('GET', '/api/docs', res);
  });

  it('when the route table and the document are compared, then every documented operation is routed, public ones without a token, and every route is documented', () => {
    const table = new RouteTable(gateway.config().routes);
    const routed = new Set<string>();
    for (const [template, item] of Object.entries<any>(doc.paths)) {
      if (template === '/api/docs') continue;
      for (const method of METHODS.filter((m) => item[m])) {
        const concrete = template.replace(/\{id\}/g, '1').replace(/\{code\}/g, 'ABCDEFGHJKLMNPQR');
        const match = table.match(method.toUpperCase(), concrete);
        expect(match, `${method} ${template} has a route`).to.exist;
        // A route may let a request through without a token when its service checks the role.
        if (Array.isArray(item[method].security) && item[method].security.length === 0) expect(match!.route.public, `${method} ${template} needs no token`).to.equal(true);
        routed.add(match!.route.id);
      }
    }
    expect(
      gateway
        .config()
        .routes.map((r) => r.id)
        .filter((id) => !routed.has(id)),
    ).to.deep.equal([]);
  });

  it('when users, coupons, campaigns and codes are used through the gateway, then every answer matches its documented status and schema', async () => {
    const email = `openapi-${RUN_ID}@example.com`;
    const credentials = { email, password: 'secret-pass-1' };
    await answered(201, api.POST('/api/users/signup', { body: credentials }));
    await answered([409, 'EMAIL_TAKEN'], api.POST('/api/users/signup', { body: credentials }));
    await call('POST', '/api/users/signup', '/api/users/signup', 400, { raw: '{"email":' });
    await answered(401, api.POST('/api/users/login', { body: { email, password: 'wrong-password' } }));
    const user = (await succeeded(200, api.POST('/api/users/login', { body: credentials }))).accessToken;
    const me = await succeeded(200, api.GET('/api/users/me', { headers: bearer(user) }));
    await answered(401, api.GET('/api/users/me'));

    const now = Date.now();
    const window = { issueStartAt: new Date(now - 60_000).toISOString(), issueEndAt: new Date(now + 3600_000).toISOString() };
    const coupon = await succeeded(201, api.POST('/api/coupons', { headers: bearer(admin), body: { title: 'OpenAPI', totalQuantity: 1, discountAmount: 100, ...window } }));
    await call('POST', '/api/coupons', '/api/coupons', [403, 'FORBIDDEN'], { token: user, body: { title: 'x' } });
    await call('POST', '/api/coupons', '/api/coupons', 400, { token: admin, body: { title: 'x' } });
    await answered(200, api.GET('/api/coupons', { params: { query: { page: 0, size: 5 } } }));
    await answered(400, api.GET('/api/coupons', { params: { query: { size: 0 } } }));
    await answered(200, api.GET('/api/coupons/{id}', { params: { path: { id: String(coupon.id) } } }));
    await answered(404, api.GET('/api/coupons/{id}', { params: { path: { id: '987654321' } } }));
    await call('GET', '/api/coupons/{id}', '/api/coupons/abc', 400);
    const claim = (id: number, pass?: string) =>
      api.POST('/api/coupons/{id}/issues', { params: { path: { id: String(id) }, header: pass === undefined ? undefined : { 'X-Queue-Pass': pass } }, headers: bearer(user) });
    await answered(202, claim(coupon.id));
    await answered([409, 'ALREADY_ISSUED'], claim(coupon.id));
    await answered(404, claim(987654321));
    await answered(200, api.GET('/api/coupons/{id}/reconciliation', { params: { path: { id: String(coupon.id) } }, headers: bearer(admin) }));
    // A queued coupon: its waiting room, and a claim only with the pass it gives.
    const join = (id: number, token?: string) => api.POST('/api/coupons/{id}/queue', { params: { path: { id: String(id) } }, headers: token === undefined ? {} : bearer(token) });
    const place = (id: number) => api.GET('/api/coupons/{id}/queue', { params: { path: { id: String(id) } }, headers: bearer(user) });
    // Turns are limited to 2 a second per user: this user asks as the room would have it ask.
    const turn = async <R extends Answered>(expected: number | [number, string], ask: () => Promise<R>) => {
      await new Promise((r) => setTimeout(r, 550));
      return answered(expected, ask());
    };
    const queued = await succeeded(
      201,
      api.POST('/api/coupons', { headers: bearer(admin), body: { title: 'OpenAPI queued', totalQuantity: 5, discountAmount: 100, ...window, admission: { perSecond: 50 } } }),
    );
    expect(queued.admission).to.deep.equal({ perSecond: 50 });
    const auto = await succeeded(
      201,
      api.POST('/api/coupons', { headers: bearer(admin), body: { title: 'OpenAPI auto', totalQuantity: 5, discountAmount: 100, ...window, admission: { perSecond: 'auto' } } }),
    );
    expect(auto.admission).to.deep.equal({ perSecond: 'auto' });
    await turn(200, () => join(auto.id, user));
    await answered(
      400,
      api.POST('/api/coupons', {
        headers: bearer(admin),
        body: { title: 'x', totalQuantity: 1, discountAmount: 1, issueStartAt: new Date(now).toISOString(), issueEndAt: new Date(now + 1000).toISOString(), admission: { perSecond: 0 } },
      }),
    );
    await turn([404, 'NOT_IN_QUEUE'], () => place(queued.id));
    await turn(200, () => join(queued.id, user));
    const ticket = await eventually(
      async () => {
        const { data } = await turn(200, () => place(queued.id));
        return data?.status === 'ADMITTED' && data;
      },
      10_000,
      200,
    );
    // Waiting and admitted users' turns are the gateway's own answers (its door reads the room in
    // Redis); refusals come from issue-coupon after its holder check.
    const turnsAnswered = async () => {
      const text = await (await fetch(`${gateway.managementUrl}/metrics`)).text();
      const count = (by: string, why: string) => Number(new RegExp(`gateway_waiting_room_turns_total\\{answered_by="${by}",why="${why}"[^}]*\\} (\\d+)`).exec(text)?.[1] ?? 0);
      return { tickets: count('gateway', 'ticket'), noTerms: count('issue-coupon-service', 'no-terms') };
    };
    const before = await turnsAnswered();
    expect(before.tickets, 'turns answered at the door').to.be.at.least(1);
    // A direct coupon's room holds no terms: issue-coupon answers.
    await turn([409, 'QUEUE_NOT_USED'], () => join(coupon.id, user));
    expect((await turnsAnswered()).noTerms).to.equal(before.noTerms + 1);
    await turn([404, 'COUPON_NOT_FOUND'], () => join(987654321, user));
    await turn(401, () => join(queued.id));
    await answered([409, 'QUEUE_REQUIRED'], claim(queued.id));
    await answered([403, 'QUEUE_PASS_INVALID'], claim(queued.id, `${ticket.pass}x`));
    await answered(202, claim(queued.id, ticket.pass));
    await turn([409, 'ALREADY_ISSUED'], () => place(queued.id));
    const myCoupons = () => api.GET('/api/users/me/coupons', { headers: bearer(user) });
    await answered(200, myCoupons());
    // Once the consumer has persisted the row, the coupon can be used for an order and given back.
    await eventually(async () => (await myCoupons()).data?.items.some((i) => i.couponId === coupon.id), 30_000, 200);
    const use = (couponId: number, orderId: string) =>
      api.POST('/api/users/me/coupons/{couponId}/redemptions', { params: { path: { couponId } }, headers: bearer(user), body: { orderId, orderAmount: 5000 } });
    const used = await succeeded(201, use(coupon.id, 'order-1'));
    expect(used).to.include({ discountAmount: 100, payableAmount: 4900 });
    await answered(201, use(coupon.id, 'order-1'));
    await answered([409, 'COUPON_ALREADY_USED'], use(coupon.id, 'order-2'));
    await answered([404, 'COUPON_NOT_HELD'], use(987654321, 'order-1'));
    await answered(400, use(coupon.id, 'has spaces'));
    const cancel = (couponId: number, orderId: string) => api.DELETE('/api/users/me/coupons/{couponId}/redemptions/{orderId}', { params: { path: { couponId, orderId } }, headers: bearer(user) });
    await answered([409, 'COUPON_USED_BY_ANOTHER_ORDER'], cancel(coupon.id, 'order-2'));
    await answered(204, cancel(coupon.id, 'order-1'));
    await answered([404, 'COUPON_NOT_HELD'], cancel(987654321, 'order-1'));
    const usage = (id: number, token?: string) => api.GET('/api/coupons/{id}/usage', { params: { path: { id: String(id) } }, headers: token === undefined ? {} : bearer(token) });
    expect(await succeeded(200, usage(coupon.id, admin))).to.include({ issued: 1, used: 0, expired: 0, usable: 1 });
    await answered([403, 'FORBIDDEN'], usage(coupon.id, user));
    await answered(401, usage(coupon.id));
    await answered([404, 'COUPON_NOT_FOUND'], usage(987654321, admin));
    await call('GET', '/api/coupons/{id}/usage', '/api/coupons/abc/usage', 400, { token: admin });
    const holders = (id: number, token?: string) => api.GET('/api/coupons/{id}/issued', { params: { path: { id: String(id) } }, headers: token === undefined ? {} : bearer(token), parseAs: 'text' });
    expect(await succeeded(200, holders(coupon.id, admin))).to.match(new RegExp(`^userId,issuedAt,state,usableUntil,usedAt,orderId\n${me.id},[^,]+,USABLE,,,\n$`));
    const jsonl = await succeeded(200, api.GET('/api/coupons/{id}/issued', { params: { path: { id: String(coupon.id) }, query: { format: 'jsonl' } }, headers: bearer(admin) }));
    expect(jsonl).to.include({ userId: me.id, state: 'USABLE', orderId: null });
    await call('GET', '/api/coupons/{id}/issued', `/api/coupons/${coupon.id}/issued?format=xml`, 400, { token: admin });
    await answered([403, 'FORBIDDEN'], holders(coupon.id, user));
    await answered(401, holders(coupon.id));
    await answered([404, 'COUPON_NOT_FOUND'], holders(987654321, admin));

    await answered(200, api.GET('/api/console/coupons', { headers: bearer(admin) }));
    await answered([403, 'FORBIDDEN'], api.GET('/api/console/coupons', { headers: bearer(user) }));
    await answered([404, 'COUPON_NOT_FOUND'], api.GET('/api/console/coupons/{id}/stream', { params: { path: { id: '987654321' } }, headers: bearer(admin) }));
    await call('GET', '/api/console/coupons/{id}/stream', '/api/console/coupons/abc/stream', 400, { token: admin });
    // An event stream has no end to read: its head is what is checked, then the stream is left.
    const leave = new AbortController();
    const stream = await fetch(`${base}/api/console/coupons/${coupon.id}/stream`, { headers: { authorization: `Bearer ${admin}` }, signal: leave.signal });
    expect(stream.status).to.equal(200);
    conforms('GET', '/api/console/coupons/{id}/stream', { status: stream.status, headers: stream.headers, body: '' });
    leave.abort();
    await call('GET', '/console/index.html', '/console/', 200);
    await answered(200, api.GET('/console/index.html', { parseAs: 'text' }));

    const campaign = await succeeded(201, api.POST('/api/campaigns', { headers: bearer(admin), body: { name: `openapi-${RUN_ID}`, description: 'documented' } }));
    await answered([403, 'FORBIDDEN'], api.POST('/api/campaigns', { headers: bearer(user), body: { name: 'x' } }));
    await answered(400, api.POST('/api/campaigns', { headers: bearer(admin), body: { name: '' } }));
    const generate = (id: number, count: number) =>
      api.POST('/api/campaigns/{id}/codes', { params: { path: { id: String(id) } }, headers: bearer(admin), body: { count, expiresAt: new Date(now + 86_400_000).toISOString() } });
    await answered(201, generate(campaign.id, 3));
    await answered(400, generate(campaign.id, 0));
    await answered(404, generate(987654321, 1));
    const campaignOf = (id: number) => api.GET('/api/campaigns/{id}', { params: { path: { id: String(id) } }, headers: bearer(admin) });
    await answered(200, campaignOf(campaign.id));
    const campaigns = await succeeded(200, api.GET('/api/campaigns', { params: { query: { size: 100 } }, headers: bearer(admin) }));
    expect(campaigns.items.map((c) => c.id)).to.include(campaign.id);
    await answered([403, 'FORBIDDEN'], api.GET('/api/campaigns', { headers: bearer(user) }));
    await answered(400, api.GET('/api/campaigns', { params: { query: { page: -1 } }, headers: bearer(admin) }));
    const codes = await succeeded(200, api.GET('/api/codes', { headers: bearer(admin) }));
    const listed = (await succeeded(200, api.GET('/api/codes', { params: { query: { campaign: `openapi-${RUN_ID}`, sort: 'createdAt' } }, headers: bearer(admin) }))).items;
    expect(listed).to.have.length(3);
    expect(codes.total).to.be.at.least(3);
    await call('GET', '/api/codes', '/api/codes?redeemed=perhaps', 400, { token: admin });
    await answered([403, 'FORBIDDEN'], api.GET('/api/codes', { headers: bearer(user) }));
    const setActive = (active: boolean) => api.PATCH('/api/campaigns/{id}', { params: { path: { id: String(campaign.id) } }, headers: bearer(admin), body: { active } });
    const redeem = (code: string) => api.POST('/api/codes/{code}/redemptions', { params: { path: { code } }, headers: bearer(user) });
    await answered(200, setActive(false));
    await answered([409, 'CODE_SUSPENDED'], redeem(listed[0].code));
    await answered(200, setActive(true));
    const redeemed = await succeeded(201, redeem(listed[0].code));
    expect(redeemed.userId).to.equal(me.id);
    await answered([409, 'CODE_ALREADY_REDEEMED'], redeem(listed[0].code));
    await answered([404, 'CODE_NOT_FOUND'], redeem('ZZZZZZZZZZZZZZZZ'));
    await answered(400, redeem('nope'));
    await answered(200, api.GET('/api/codes', { params: { query: { code: listed[0].code, redeemed: 'true' } }, headers: bearer(admin) }));
    await answered(200, api.GET('/api/users/me/codes', { headers: bearer(user) }));
    await call('PATCH', '/api/campaigns/{id}', `/api/campaigns/${campaign.id}`, 400, { token: admin, body: { active: 'yes' } });
    const remove = () => api.DELETE('/api/campaigns/{id}', { params: { path: { id: String(campaign.id) } }, headers: bearer(admin) });
    await answered(204, remove());
    await answered(404, remove());
    await answered(404, campaignOf(campaign.id));
    const archiveRun = (token: string) => api.POST('/api/campaigns/archive-runs', { headers: bearer(token) });
    await answered(200, archiveRun(admin));
    await answered([403, 'FORBIDDEN'], archiveRun(user));

    // Every operation was seen answering its success status at least once.
    for (const [template, item] of Object.entries<any>(doc.paths)) {
      for (const method of METHODS.filter((m) => item[m])) {
        const success = Object.keys(item[method].responses).find((s) => s.startsWith('2'));
        expect(checked.has(`${method.toUpperCase()} ${template} ${success}`), `${method.toUpperCase()} ${template} ${success} was exercised`).to.equal(true);
      }
    }
  });
});
