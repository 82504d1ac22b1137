// The shapes the gateway answers with, as the page reads them (services/console and coupon-service own them).
// Those the API document defines are taken from it (the generated types of @coupon-rush/api-client), so
// the page and the document cannot drift; the rest are the console's own stream.
import type { components, operations } from '@coupon-rush/api-client';

/** The JSON body of an operation's 200 answer. */
type JsonAnswer<O> = O extends { responses: { 200: { content: { 'application/json': infer B } } } } ? B : never;

export type CouponState = 'upcoming' | 'open' | 'closed';

export interface CouponSummary {
  id: number;
  title: string;
  /** null: unlimited. */
  totalQuantity: number | null;
  issueStartAt: string;
  issueEndAt: string;
  state: CouponState;
  claimed: number;
  remaining: number | null;
  rows: number;
}

export interface NewCoupon {
  title: string;
  totalQuantity: number | null;
  discountAmount: number;
  issueStartAt: string;
  issueEndAt: string;
}

/** A campaign, as the API document defines it. */
export type Campaign = components['schemas']['Campaign'];

/** A page of campaigns (GET /api/campaigns). */
export type CampaignPage = JsonAnswer<operations['listCampaigns']>;

/** A login's answer (POST /api/users/login). */
export type LoginAnswer = JsonAnswer<operations['logIn']>;

/** One `tick` event of GET /api/console/coupons/:id/stream. */
export interface Tick {
  at: string;
  coupon: Pick<CouponSummary, 'id' | 'title' | 'totalQuantity' | 'issueStartAt' | 'issueEndAt' | 'state'>;
  stock: { claimed: number; remaining: number | null };
  acceptedPerSecond: number;
  /** Issue-coupon answers per second for this coupon, by code; a code that had none may be absent. */
  answersPerSecond: Record<string, number>;
  latency: { route: string; windowSeconds: number; requests: number; p50Ms: number | null; p99Ms: number | null };
  consumer: { lag: number | null };
  /** claimsWithoutRow/rowsWithoutClaim: users compared once the counts agree, null until then. */
  reconciliation: { accepted: number; rows: number; pending: number; revoked: number; claimsWithoutRow: number | null; rowsWithoutClaim: number | null; consistent: boolean };
  deadLettered: number | null;
  usage: { issued: number; used: number; expired: number; usable: number; at: string } | null;
  queue: { waiting: number; preQueue: number; admittedPerSecond: number; lastInLineWaitSeconds: number | null; passesOut: number; abandoned: number; perSecond: number | null; auto: boolean } | null;
  instances: { service: string; inRotation: number }[];
  errors: string[];
}
