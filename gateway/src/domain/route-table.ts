import type { RouteDefinition } from '../config';

export interface RouteMatch {
  route: RouteDefinition;
  /** The path sent upstream, after stripping the route's leading segments. */
  upstreamPath: string;
}

interface CompiledRoute {
  route: RouteDefinition;
  segments: string[];
}

/** First matching route wins, so specific routes are listed before general ones. */
export class RouteTable {
  private readonly compiled: CompiledRoute[];

  constructor(routes: RouteDefinition[]) {
    this.compiled = routes.map((route) => ({ route, segments: route.path.split('/').filter(Boolean) }));
  }

  services(): string[] {
    return [...new Set(this.compiled.map((c) => c.route.service))];
  }

  match(method: string, url: string): RouteMatch | undefined {
    const q = url.indexOf('?');
    const pathname = q === -1 ? url : url.slice(0, q);
    const query = q === -1 ? '' : url.slice(q);
    const segments = pathname.split('/').filter(Boolean);
    for (const { route, segments: pattern } of this.compiled) {
      if (route.methods && !route.methods.includes(method)) continue;
      if (segments.length < pattern.length) continue;
      if (!pattern.every((p, i) => p === '*' || p === segments[i])) continue;
      const rest = segments.slice(route.stripPrefix).join('/');
      // A trailing slash is kept: /console/ (a directory's index) is not /console.
      const trailing = rest !== '' && pathname.endsWith('/') ? '/' : '';
      return { route, upstreamPath: `/${rest}${trailing}${query}` };
    }
    return undefined;
  }
}
