// Sets the theme before the first paint: the remembered choice, else the system's. A classic script in
// <head> so the page never flashes the other theme while the modules load; style.css keys on
// data-theme alone. The toggle, and following the system while nothing is chosen, live in theme.js.
{
  let theme = null;
  try {
    theme = localStorage.getItem('busbar.theme');
  } catch {
    // Storage unavailable: the system's theme.
  }
  if (theme !== 'dark' && theme !== 'light')
    theme = matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light';
  document.documentElement.dataset.theme = theme;
}
