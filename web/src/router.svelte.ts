// A small history-API router: the server answers index.html for every
// console path (internal/web/console.go), and these are the console's pages.

export type Route = { page: 'login' } | { page: 'alerts' } | { page: 'alert'; id: number } | { page: 'notfound' };

function parse(path: string): Route {
  if (path === '/' || path === '/alerts' || path === '/alerts/') return { page: 'alerts' };
  if (path === '/login') return { page: 'login' };
  const m = /^\/alerts\/(\d+)$/.exec(path);
  if (m) return { page: 'alert', id: Number(m[1]) };
  return { page: 'notfound' };
}

export const router = $state({ route: parse(location.pathname) as Route });

export function navigate(path: string, replace = false): void {
  if (replace) history.replaceState(null, '', path);
  else history.pushState(null, '', path);
  router.route = parse(path);
}

window.addEventListener('popstate', () => {
  router.route = parse(location.pathname);
});
