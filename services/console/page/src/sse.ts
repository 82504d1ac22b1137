// Server-sent events framing (the WHATWG "event stream" format), parsed by hand because
// EventSource cannot send the Authorization header the gateway requires.

export interface SseEvent {
  type: string;
  data: string;
  id: string;
}

export class SseParser {
  private buffer = '';
  private type = '';
  private data: string[] = [];
  private lastId = '';

  /** Feeds decoded text; returns the events it completed. */
  push(text: string): SseEvent[] {
    this.buffer += text;
    const events: SseEvent[] = [];
    for (;;) {
      const end = this.buffer.search(/\r\n|\r|\n/);
      // A lone trailing \r may be the first half of a \r\n split across chunks: wait for more.
      if (end < 0 || (end === this.buffer.length - 1 && this.buffer.endsWith('\r'))) break;
      const line = this.buffer.slice(0, end);
      this.buffer = this.buffer.slice(this.buffer.startsWith('\r\n', end) ? end + 2 : end + 1);
      const event = this.line(line);
      if (event) events.push(event);
    }
    return events;
  }

  get lastEventId(): string {
    return this.lastId;
  }

  private line(line: string): SseEvent | null {
    if (line === '') return this.dispatch();
    // A comment: the server's heartbeat, which has done its job by arriving.
    if (line.startsWith(':')) return null;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') this.type = value;
    else if (field === 'data') this.data.push(value);
    else if (field === 'id' && !value.includes('\0')) this.lastId = value;
    // "retry" and unknown fields are ignored: the page keeps its own bounded backoff.
    return null;
  }

  private dispatch(): SseEvent | null {
    const event = this.data.length === 0 ? null : { type: this.type || 'message', data: this.data.join('\n'), id: this.lastId };
    this.type = '';
    this.data = [];
    return event;
  }
}
