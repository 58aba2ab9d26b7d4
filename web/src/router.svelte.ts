// A small history-API router: the server answers index.html for every
// console path (internal/web/console.go), and these are the console's pages.
// A page with an object names it by id (a number or a string ID); the query
// string stays in location.search for pages that keep their state there
// (a hunt's query, a queue's filters).

export type Page =
  | 'login'
  | 'alerts'
  | 'alert'
  | 'suppressions'
  | 'cases'
  | 'case'
  | 'hunt'
  | 'intel'
  | 'indicator'
  | 'campaigns'
  | 'campaign'
  | 'advisories'
  | 'advisory'
  | 'overview'
  | 'admin'
  | 'account'
  | 'notfound';

export interface Route {
  page: Page;
  // id is the object of a detail page ('42', 'indicator--…'), or the tab
  // of the administration page ('users'); '' otherwise.
  id: string;
}

const routes: [RegExp, Page][] = [
  [/^\/(?:alerts\/?)?$/, 'alerts'],
  [/^\/login$/, 'login'],
  [/^\/alerts\/(\d+)$/, 'alert'],
  [/^\/suppressions\/?$/, 'suppressions'],
  [/^\/cases\/?$/, 'cases'],
  [/^\/cases\/(\d+)$/, 'case'],
  [/^\/hunt\/?$/, 'hunt'],
  [/^\/intel\/?$/, 'intel'],
  [/^\/intel\/indicators\/([^/]+)$/, 'indicator'],
  [/^\/campaigns\/?$/, 'campaigns'],
  [/^\/campaigns\/([^/]+)$/, 'campaign'],
  [/^\/advisories\/?$/, 'advisories'],
  [/^\/advisories\/([^/]+)$/, 'advisory'],
  [/^\/overview\/?$/, 'overview'],
  [/^\/admin(?:\/([a-z-]+))?\/?$/, 'admin'],
  [/^\/account\/?$/, 'account'],
];

function parse(path: string): Route {
  for (const [re, page] of routes) {
    const m = re.exec(path);
    if (m) return { page, id: m[1] ? decodeURIComponent(m[1]) : '' };
  }
  return { page: 'notfound', id: '' };
}

export const router = $state({ route: parse(location.pathname) as Route });

// navigate shows path (which may carry a query string) as a new history
// entry, or in place of the current one.
export function navigate(path: string, replace = false): void {
  if (replace) history.replaceState(null, '', path);
  else history.pushState(null, '', path);
  const before = router.route.page;
  router.route = parse(location.pathname);
  if (router.route.page === 'alerts') lastQueue = path;
  // A new page takes the focus (a screen reader announces it); the same
  // page with other filters keeps it where it is.
  if (!replace && router.route.page !== before) {
    queueMicrotask(() => document.getElementById('main')?.focus({ preventScroll: false }));
  }
}

// lastQueue is the queue as the analyst last left it, filters and all, for
// the way back from an alert.
let lastQueue = '/alerts';

// queuePath returns lastQueue.
export function queuePath(): string {
  return lastQueue;
}

// link makes an <a href> navigate inside the console: a plain click stays
// in the page, a modified click (new tab, new window) is the browser's.
export function link(e: MouseEvent): void {
  if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
  const a = e.currentTarget as HTMLAnchorElement;
  e.preventDefault();
  navigate(a.getAttribute('href') ?? '/');
}

window.addEventListener('popstate', () => {
  router.route = parse(location.pathname);
  if (router.route.page === 'alerts') lastQueue = location.pathname + location.search;
});
