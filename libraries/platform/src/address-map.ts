import type { ConfigReader } from './config-reader';

export interface HostPort {
  host: string;
  port: number;
}

/** `host:port`, as config lists brokers and Sentinels; undefined for anything else. */
export function parseHostPort(v: unknown): HostPort | undefined {
  const m = typeof v === 'string' ? /^([\w.-]+):(\d{1,5})$/.exec(v) : null;
  return m && Number(m[2]) <= 65_535 ? { host: m[1], port: Number(m[2]) } : undefined;
}

/**
 * Where to connect for an address a server hands out: Sentinel names the master by the address
 * the master announces, a Kafka broker by its advertised listener. Between the client and those
 * servers may sit a NAT, a port forward or a proxy (the fault suite's toxiproxy); the map sends
 * the client to the address it can reach. Keyed by `host:port` as announced.
 */
export type AddressMap = ReadonlyMap<string, HostPort>;

/** A list of `{ announced: host:port, connect: host:port }` at `path`; empty when absent. */
export function readAddressMap(r: ConfigReader, path: string): AddressMap {
  const entries = r.optionalList(path, (v) => {
    const e = v && typeof v === 'object' ? (v as Record<string, unknown>) : {};
    const announced = parseHostPort(e.announced);
    const connect = parseHostPort(e.connect);
    return announced && connect ? ([`${announced.host}:${announced.port}`, connect] as const) : undefined;
  });
  return new Map(entries);
}

/** The address to connect to for `host:port`: its mapping, or itself. */
export function reach(map: AddressMap, host: string, port: number): HostPort {
  return map.get(`${host}:${port}`) ?? { host, port };
}
