// Applies the remembered theme before the first paint; a classic script in <head> so the page never
// flashes the other theme while the modules load. The toggle itself lives in theme.js.
try {
  const theme = localStorage.getItem('busbar.theme');
  if (theme === 'dark' || theme === 'light') document.documentElement.dataset.theme = theme;
} catch {
  // Storage unavailable: follow prefers-color-scheme.
}
