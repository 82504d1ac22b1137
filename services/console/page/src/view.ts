/** What main shows in the page's <main>: one at a time, unmounted (timers, requests, stream stopped) before the next. */
export interface View {
  el: HTMLElement;
  /** Where the focus goes when the view opens, so that keyboard and screen-reader users land in it. */
  focus: HTMLElement;
  unmount(): void;
}
