import fs from 'node:fs';
import Ajv2020, { type ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { expect } from 'chai';
import YAML from 'yaml';
import type { RunningService } from '@coupon-rush/platform';
import { eventually, http, isolatedOverrides, RUN_ID, tokenFor, type HttpAnswer } from '@coupon-rush/testkit';
import { start as startConsole } from '@coupon-rush/console-service';
import { start as startCoupon } from '@coupon-rush/coupon-service';
import { start as startIssue } from '@coupon-rush/issue-coupon-service';
import { start as startUser } from '@coupon-rush/user-service';
import type { GatewayConfig } from '@coupon-rush/gateway/config';
import { RouteTable } from '@coupon-rush/gateway/route-table';
import { OPENAPI_FILE, start as startGateway } from '@coupon-rush/gateway';

const METHODS = ['get', 'post', 'put', 'patch', 'delete'];
const pointer = (...parts: string[]) => parts.map((p) => p.replace(/~/g, '~0').replace(/\//g, '~1')).join('/');

describe('the OpenAPI document, against real answers through the gateway', function () {
  this.timeout(120_000);
  const services: Array<RunningService<unknown>> = [];
  let gateway: RunningService<GatewayConfig>;
  let base: string;
  let doc: any;
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
   * One call through the gateway: it must answer the status the case is for (and the problem code,
   * when given), and that answer must be the documented one. Any documented status would pass the
   * schema check alone, a 201 where a 403 is due included.
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
    await call('POST', '/api/users/signup', '/api/users/signup', 201, { body: { email, password: 'secret-pass-1' } });
    await call('POST', '/api/users/signup', '/api/users/signup', [409, 'EMAIL_TAKEN'], { body: { email, password: 'secret-pass-1' } });
    await call('POST', '/api/users/signup', '/api/users/signup', 400, { raw: '{"email":' });
    await call('POST', '/api/users/login', '/api/users/login', 401, { body: { email, password: 'wrong-password' } });
    const user = (await call('POST', '/api/users/login', '/api/users/login', 200, { body: { email, password: 'secret-pass-1' } })).body.accessToken;
    const me = (await call('GET', '/api/users/me', '/api/users/me', 200, { token: user })).body;
    await call('GET', '/api/users/me', '/api/users/me', 401, {});

    const now = Date.now();
    const coupon = (
      await call('POST', '/api/coupons', '/api/coupons', 201, {
        token: admin,
        body: { title: 'OpenAPI', totalQuantity: 1, discountAmount: 100, issueStartAt: new Date(now - 60_000).toISOString(), issueEndAt: new Date(now + 3600_000).toISOString() },
      })
    ).body;
    await call('POST', '/api/coupons', '/api/coupons', [403, 'FORBIDDEN'], { token: user, body: { title: 'x' } });
    await call('POST', '/api/coupons', '/api/coupons', 400, { token: admin, body: { title: 'x' } });
    await call('GET', '/api/coupons', '/api/coupons?page=0&size=5', 200);
    await call('GET', '/api/coupons', '/api/coupons?size=0', 400);
    await call('GET', '/api/coupons/{id}', `/api/coupons/${coupon.id}`, 200);
    await call('GET', '/api/coupons/{id}', '/api/coupons/987654321', 404);
    await call('GET', '/api/coupons/{id}', '/api/coupons/abc', 400);
    await call('POST', '/api/coupons/{id}/issues', `/api/coupons/${coupon.id}/issues`, 202, { token: user });
    await call('POST', '/api/coupons/{id}/issues', `/api/coupons/${coupon.id}/issues`, [409, 'ALREADY_ISSUED'], { token: user });
    await call('POST', '/api/coupons/{id}/issues', '/api/coupons/987654321/issues', 404, { token: user });
    await call('GET', '/api/coupons/{id}/reconciliation', `/api/coupons/${coupon.id}/reconciliation`, 200, { token: admin });
    // A queued coupon: its waiting room, and a claim only with the pass it gives.
    const room = '/api/coupons/{id}/queue';
    // Turns are limited to 2 a second per user: this user asks as the room would have it ask.
    const turn = async (...args: Parameters<typeof call>) => {
      await new Promise((r) => setTimeout(r, 550));
      return call(...args);
    };
    const queued = (
      await call('POST', '/api/coupons', '/api/coupons', 201, {
        token: admin,
        body: {
          title: 'OpenAPI queued',
          totalQuantity: 5,
          discountAmount: 100,
          issueStartAt: new Date(now - 60_000).toISOString(),
          issueEndAt: new Date(now + 3600_000).toISOString(),
          admission: { perSecond: 50 },
        },
      })
    ).body;
    expect(queued.admission).to.deep.equal({ perSecond: 50 });
    const auto = await call('POST', '/api/coupons', '/api/coupons', 201, {
      token: admin,
      body: {
        title: 'OpenAPI auto',
        totalQuantity: 5,
        discountAmount: 100,
        issueStartAt: new Date(now - 60_000).toISOString(),
        issueEndAt: new Date(now + 3600_000).toISOString(),
        admission: { perSecond: 'auto' },
      },
    });
    expect(auto.body.admission).to.deep.equal({ perSecond: 'auto' });
    await turn('POST', room, `/api/coupons/${auto.body.id}/queue`, 200, { token: user });
    await call('POST', '/api/coupons', '/api/coupons', 400, {
      token: admin,
      body: { title: 'x', totalQuantity: 1, discountAmount: 1, issueStartAt: new Date(now).toISOString(), issueEndAt: new Date(now + 1000).toISOString(), admission: { perSecond: 0 } },
    });
    await turn('GET', room, `/api/coupons/${queued.id}/queue`, [404, 'NOT_IN_QUEUE'], { token: user });
    await turn('POST', room, `/api/coupons/${queued.id}/queue`, 200, { token: user });
    const ticket = await eventually(
      async () => {
        const t = await turn('GET', room, `/api/coupons/${queued.id}/queue`, 200, { token: user });
        return t.body.status === 'ADMITTED' && t;
      },
      10_000,
      200,
    );
    // Waiting and admitted users' turns are the gateway's own answers (its door reads the room in
    // Redis); refusals come from issue-coupon after its holder check.
    const turnsAnswered = async () => {
      const text = await (await fetch(`${gateway.managementUrl}/metrics`)).text();
      const count = (by: string) => Number(new RegExp(`gateway_waiting_room_turns_total\\{answered_by="${by}"[^}]*\\} (\\d+)`).exec(text)?.[1] ?? 0);
      return { door: count('gateway'), upstream: count('issue-coupon-service') };
    };
    const before = await turnsAnswered();
    expect(before.door, 'turns answered at the door').to.be.at.least(1);
    await turn('POST', room, `/api/coupons/${coupon.id}/queue`, [409, 'QUEUE_NOT_USED'], { token: user });
    expect((await turnsAnswered()).upstream).to.equal(before.upstream + 1);
    await turn('POST', room, '/api/coupons/987654321/queue', [404, 'COUPON_NOT_FOUND'], { token: user });
    await turn('POST', room, `/api/coupons/${queued.id}/queue`, 401);
    const issues = '/api/coupons/{id}/issues';
    await call('POST', issues, `/api/coupons/${queued.id}/issues`, [409, 'QUEUE_REQUIRED'], { token: user });
    await call('POST', issues, `/api/coupons/${queued.id}/issues`, [403, 'QUEUE_PASS_INVALID'], { token: user, headers: { 'x-queue-pass': `${ticket.body.pass}x` } });
    await call('POST', issues, `/api/coupons/${queued.id}/issues`, 202, { token: user, headers: { 'x-queue-pass': ticket.body.pass } });
    await turn('GET', room, `/api/coupons/${queued.id}/queue`, [409, 'ALREADY_ISSUED'], { token: user });
    await call('GET', '/api/users/me/coupons', '/api/users/me/coupons', 200, { token: user });
    // Once the consumer has persisted the row, the coupon can be used for an order and given back.
    await eventually(async () => (await http('GET', `${base}/api/users/me/coupons`, { token: user })).body.items.some((i: { couponId: number }) => i.couponId === coupon.id), 30_000, 200);
    const uses = '/api/users/me/coupons/{couponId}/redemptions';
    const used = await call('POST', uses, `/api/users/me/coupons/${coupon.id}/redemptions`, 201, { token: user, body: { orderId: 'order-1', orderAmount: 5000 } });
    expect(used.body).to.include({ discountAmount: 100, payableAmount: 4900 });
    await call('POST', uses, `/api/users/me/coupons/${coupon.id}/redemptions`, 201, { token: user, body: { orderId: 'order-1', orderAmount: 5000 } });
    await call('POST', uses, `/api/users/me/coupons/${coupon.id}/redemptions`, [409, 'COUPON_ALREADY_USED'], { token: user, body: { orderId: 'order-2', orderAmount: 5000 } });
    await call('POST', uses, '/api/users/me/coupons/987654321/redemptions', [404, 'COUPON_NOT_HELD'], { token: user, body: { orderId: 'order-1', orderAmount: 5000 } });
    await call('POST', uses, `/api/users/me/coupons/${coupon.id}/redemptions`, 400, { token: user, body: { orderId: 'has spaces', orderAmount: 5000 } });
    const cancel = `${uses}/{orderId}`;
    await call('DELETE', cancel, `/api/users/me/coupons/${coupon.id}/redemptions/order-2`, [409, 'COUPON_USED_BY_ANOTHER_ORDER'], { token: user });
    await call('DELETE', cancel, `/api/users/me/coupons/${coupon.id}/redemptions/order-1`, 204, { token: user });
    await call('DELETE', cancel, '/api/users/me/coupons/987654321/redemptions/order-1', [404, 'COUPON_NOT_HELD'], { token: user });
    const usage = await call('GET', '/api/coupons/{id}/usage', `/api/coupons/${coupon.id}/usage`, 200, { token: admin });
    expect(usage.body).to.include({ issued: 1, used: 0, expired: 0, usable: 1 });
    await call('GET', '/api/coupons/{id}/usage', `/api/coupons/${coupon.id}/usage`, [403, 'FORBIDDEN'], { token: user });
    await call('GET', '/api/coupons/{id}/usage', `/api/coupons/${coupon.id}/usage`, 401);
    await call('GET', '/api/coupons/{id}/usage', '/api/coupons/987654321/usage', [404, 'COUPON_NOT_FOUND'], { token: admin });
    await call('GET', '/api/coupons/{id}/usage', '/api/coupons/abc/usage', 400, { token: admin });
    const holders = '/api/coupons/{id}/issued';
    const csv = await call('GET', holders, `/api/coupons/${coupon.id}/issued`, 200, { token: admin });
    expect(csv.body).to.match(new RegExp(`^userId,issuedAt,state,usableUntil,usedAt,orderId\n${me.id},[^,]+,USABLE,,,\n$`));
    const jsonl = await call('GET', holders, `/api/coupons/${coupon.id}/issued?format=jsonl`, 200, { token: admin });
    expect(jsonl.body).to.include({ userId: me.id, state: 'USABLE', orderId: null });
    await call('GET', holders, `/api/coupons/${coupon.id}/issued?format=xml`, 400, { token: admin });
    await call('GET', holders, `/api/coupons/${coupon.id}/issued`, [403, 'FORBIDDEN'], { token: user });
    await call('GET', holders, `/api/coupons/${coupon.id}/issued`, 401);
    await call('GET', holders, '/api/coupons/987654321/issued', [404, 'COUPON_NOT_FOUND'], { token: admin });

    await call('GET', '/api/console/coupons', '/api/console/coupons', 200, { token: admin });
    await call('GET', '/api/console/coupons', '/api/console/coupons', [403, 'FORBIDDEN'], { token: user });
    await call('GET', '/api/console/coupons/{id}/stream', '/api/console/coupons/987654321/stream', [404, 'COUPON_NOT_FOUND'], { token: admin });
    await call('GET', '/api/console/coupons/{id}/stream', '/api/console/coupons/abc/stream', 400, { token: admin });
    // An event stream has no end to read: its head is what is checked, then the stream is left.
    const leave = new AbortController();
    const stream = await fetch(`${base}/api/console/coupons/${coupon.id}/stream`, { headers: { authorization: `Bearer ${admin}` }, signal: leave.signal });
    expect(stream.status).to.equal(200);
    conforms('GET', '/api/console/coupons/{id}/stream', { status: stream.status, headers: stream.headers, body: '' });
    leave.abort();
    await call('GET', '/console/index.html', '/console/', 200);
    await call('GET', '/console/index.html', '/console/index.html', 200);

    const campaign = (await call('POST', '/api/campaigns', '/api/campaigns', 201, { token: admin, body: { name: `openapi-${RUN_ID}`, description: 'documented' } })).body;
    await call('POST', '/api/campaigns', '/api/campaigns', [403, 'FORBIDDEN'], { token: user, body: { name: 'x' } });
    await call('POST', '/api/campaigns', '/api/campaigns', 400, { token: admin, body: { name: '' } });
    await call('POST', '/api/campaigns/{id}/codes', `/api/campaigns/${campaign.id}/codes`, 201, { token: admin, body: { count: 3, expiresAt: new Date(now + 86_400_000).toISOString() } });
    await call('POST', '/api/campaigns/{id}/codes', `/api/campaigns/${campaign.id}/codes`, 400, { token: admin, body: { count: 0, expiresAt: new Date(now + 86_400_000).toISOString() } });
    await call('POST', '/api/campaigns/{id}/codes', '/api/campaigns/987654321/codes', 404, { token: admin, body: { count: 1, expiresAt: new Date(now + 86_400_000).toISOString() } });
    await call('GET', '/api/campaigns/{id}', `/api/campaigns/${campaign.id}`, 200, { token: admin });
    const campaigns = (await call('GET', '/api/campaigns', '/api/campaigns?size=100', 200, { token: admin })).body;
    expect(campaigns.items.map((c: { id: number }) => c.id)).to.include(campaign.id);
    await call('GET', '/api/campaigns', '/api/campaigns', [403, 'FORBIDDEN'], { token: user });
    await call('GET', '/api/campaigns', '/api/campaigns?page=-1', 400, { token: admin });
    const codes = (await call('GET', '/api/codes', '/api/codes', 200, { token: admin })).body;
    const listed = (await call('GET', '/api/codes', `/api/codes?campaign=openapi-${RUN_ID}&sort=createdAt`, 200, { token: admin })).body.items;
    expect(listed).to.have.length(3);
    expect(codes.total).to.be.at.least(3);
    await call('GET', '/api/codes', '/api/codes?redeemed=perhaps', 400, { token: admin });
    await call('GET', '/api/codes', '/api/codes', [403, 'FORBIDDEN'], { token: user });
    await call('PATCH', '/api/campaigns/{id}', `/api/campaigns/${campaign.id}`, 200, { token: admin, body: { active: false } });
    await call('POST', '/api/codes/{code}/redemptions', `/api/codes/${listed[0].code}/redemptions`, [409, 'CODE_SUSPENDED'], { token: user });
    await call('PATCH', '/api/campaigns/{id}', `/api/campaigns/${campaign.id}`, 200, { token: admin, body: { active: true } });
    const redeemed = await call('POST', '/api/codes/{code}/redemptions', `/api/codes/${listed[0].code}/redemptions`, 201, { token: user });
    expect(redeemed.body.userId).to.equal(me.id);
    await call('POST', '/api/codes/{code}/redemptions', `/api/codes/${listed[0].code}/redemptions`, [409, 'CODE_ALREADY_REDEEMED'], { token: user });
    await call('POST', '/api/codes/{code}/redemptions', '/api/codes/ZZZZZZZZZZZZZZZZ/redemptions', [404, 'CODE_NOT_FOUND'], { token: user });
    await call('POST', '/api/codes/{code}/redemptions', '/api/codes/nope/redemptions', 400, { token: user });
    await call('GET', '/api/codes', `/api/codes?code=${listed[0].code}&redeemed=true`, 200, { token: admin });
    await call('GET', '/api/users/me/codes', '/api/users/me/codes', 200, { token: user });
    await call('PATCH', '/api/campaigns/{id}', `/api/campaigns/${campaign.id}`, 400, { token: admin, body: { active: 'yes' } });
    await call('DELETE', '/api/campaigns/{id}', `/api/campaigns/${campaign.id}`, 204, { token: admin });
    await call('DELETE', '/api/campaigns/{id}', `/api/campaigns/${campaign.id}`, 404, { token: admin });
    await call('GET', '/api/campaigns/{id}', `/api/campaigns/${campaign.id}`, 404, { token: admin });
    await call('POST', '/api/campaigns/archive-runs', '/api/campaigns/archive-runs', 200, { token: admin });
    await call('POST', '/api/campaigns/archive-runs', '/api/campaigns/archive-runs', [403, 'FORBIDDEN'], { token: user });

    // Every operation was seen answering its success status at least once.
    for (const [template, item] of Object.entries<any>(doc.paths)) {
      for (const method of METHODS.filter((m) => item[m])) {
        const success = Object.keys(item[method].responses).find((s) => s.startsWith('2'));
        expect(checked.has(`${method.toUpperCase()} ${template} ${success}`), `${method.toUpperCase()} ${template} ${success} was exercised`).to.equal(true);
      }
    }
  });
});
