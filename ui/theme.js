// Dark and light themes: prefers-color-scheme until the operator picks one with the toggle, which is
// then remembered in localStorage. useTheme() gives the theme in force and re-renders when it changes.
import { useEffect, useState } from './vendor/preact-htm.js';

const KEY = 'busbar.theme';
const media = window.matchMedia('(prefers-color-scheme: dark)');

export function currentTheme() {
  const chosen = document.documentElement.dataset.theme;
  if (chosen === 'dark' || chosen === 'light') return chosen;
  return media.matches ? 'dark' : 'light';
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
    const follow = () => setTheme(currentTheme());
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
