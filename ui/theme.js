// Dark and light themes: prefers-color-scheme until the operator picks one with the toggle, which is
// then remembered in localStorage. useTheme() gives the theme in force and re-renders when it changes.
import { useEffect, useState } from './vendor/preact-htm.js';

const KEY = 'busbar.theme';
const media = window.matchMedia('(prefers-color-scheme: dark)');

/** The theme in force: theme-init.js has set it before the first paint. */
export function currentTheme() {
  return document.documentElement.dataset.theme === 'dark' ? 'dark' : 'light';
}

/** Whether the operator picked a theme (else the page follows the system). */
function chosen() {
  try {
    return localStorage.getItem(KEY) !== null;
  } catch {
    return false;
  }
}

function choose(theme) {
  document.documentElement.dataset.theme = theme;
  try {
    localStorage.setItem(KEY, theme);
  } catch {
    // Storage unavailable: the choice lasts until the page is reloaded.
  }
}

/** [theme, toggle]: theme is 'dark' or 'light'. */
export function useTheme() {
  const [theme, setTheme] = useState(currentTheme);
  useEffect(() => {
    const follow = () => {
      if (!chosen()) document.documentElement.dataset.theme = media.matches ? 'dark' : 'light';
      setTheme(currentTheme());
    };
    media.addEventListener('change', follow);
    return () => media.removeEventListener('change', follow);
  }, []);
  const toggle = () => {
    const next = currentTheme() === 'dark' ? 'light' : 'dark';
    choose(next);
    setTheme(next);
  };
  return [theme, toggle];
}
