// Entry point of the Busbar operator dashboard: sign-in, the live connection, the page layout, and the
// shared confirm → call → status flow every action goes through.
import { ApiError, adminCall, clearToken, getToken, setToken, Unauthorized } from './api.js';
import { ConfirmDialog } from './dialogs.js';
import { clock, dateTime } from './format.js';
import { KeysSection } from './keys.js';
import { LanesSection } from './lanes.js';
import { connectLive } from './live.js';
import { trimWindow } from './metrics.js';
import { Overview } from './overview.js';
import { useTheme } from './theme.js';
import { html, render, useEffect, useRef, useState } from './vendor/preact-htm.js';

const REJECTED = 'The admin token was not accepted.';

function Login({ error, note, checking, onSubmit }) {
  const [token, setTokenText] = useState('');
  const submit = (event) => {
    event.preventDefault();
    const value = token.trim();
    if (value) onSubmit(value);
  };
  return html`<main class="login-page">
    <form class="login" data-testid="login" onSubmit=${submit} aria-labelledby="login-title" novalidate>
      <h1 id="login-title">Busbar</h1>
      <p class="muted">Operator dashboard. Sign in with the gateway's admin token.</p>
      <label for="admin-token">Admin token</label>
      <input
        id="admin-token"
        name="admin-token"
        type="password"
        autocomplete="off"
        spellcheck="false"
        required
        autofocus
        value=${token}
        onInput=${(e) => setTokenText(e.currentTarget.value)}
        aria-describedby=${error ? 'login-error' : undefined}
      />
      <button type="submit" class="button primary" disabled=${!token.trim()}>Sign in</button>
      ${
        error
          ? html`<p id="login-error" class="field-error" data-testid="login-error" role="alert">${error}</p>`
          : null
      }
      <p class="muted" role="status" aria-live="polite">${checking ? 'Checking the token…' : note}</p>
    </form>
  </main>`;
}

function Connection({ conn }) {
  const label = { live: 'Live', connecting: 'Connecting…', reconnecting: 'Reconnecting…' }[conn.state];
  return html`<span class=${`conn conn-${conn.state}`} title=${conn.detail || undefined}>
    <span class="conn-dot" aria-hidden="true"></span>${label}
  </span>`;
}

function Header({ state, conn, theme, onToggleTheme, onReload, onSignOut }) {
  const hash = state?.config?.hash ?? '';
  const loadedAt = state?.config?.loaded_at;
  return html`<header class="topbar">
    <h1>Busbar</h1>
    ${
      state
        ? html`<dl class="facts">
            <div>
              <dt>Config</dt>
              <dd><code title=${hash}>${hash.slice(0, 12)}</code></dd>
            </div>
            <div>
              <dt>Loaded</dt>
              <dd><time datetime=${loadedAt}>${dateTime(loadedAt)}</time></dd>
            </div>
            <div>
              <dt>Replica</dt>
              <dd>${state.replica}</dd>
            </div>
            <div>
              <dt>Workers</dt>
              <dd>${state.workers}</dd>
            </div>
          </dl>`
        : null
    }
    <div class="topbar-actions">
      <span role="status" aria-live="polite"><${Connection} conn=${conn} /></span>
      ${
        state?.reload
          ? html`<button type="button" class="button" onClick=${onReload}>Reload config</button>`
          : null
      }
      <button
        type="button"
        class="button"
        aria-pressed=${theme === 'dark' ? 'true' : 'false'}
        onClick=${onToggleTheme}
      >
        Dark theme
      </button>
      <button type="button" class="button" onClick=${onSignOut}>Sign out</button>
    </div>
  </header>`;
}

function App() {
  // 'login': only the form; 'checking': the form while the stream opens; 'in': the dashboard.
  const [phase, setPhase] = useState(getToken() ? 'checking' : 'login');
  const [attempt, setAttempt] = useState(0);
  const [loginError, setLoginError] = useState('');
  const [loginNote, setLoginNote] = useState('');
  const [conn, setConn] = useState({ state: 'connecting', detail: '' });
  const [live, setLive] = useState(null);
  const [confirm, setConfirm] = useState(null);
  const [status, setStatus] = useState({ text: '', kind: '' });
  const [theme, toggleTheme] = useTheme();
  const phaseRef = useRef(phase);
  phaseRef.current = phase;

  const signOut = (error, note = '') => {
    clearToken();
    setConfirm(null);
    setLive(null);
    setStatus({ text: '', kind: '' });
    setLoginError(error);
    setLoginNote(note);
    setPhase('login');
  };

  useEffect(() => {
    if (phase === 'login') return undefined;
    const store = { points: [], windowS: 900, state: null, version: 0 };
    const publish = () => {
      store.version += 1;
      setLive({ points: store.points, state: store.state, version: store.version });
    };
    return connectLive({
      onStatus: (next) => {
        setConn(next);
        if (next.state === 'live') setPhase('in');
        else if (next.state === 'reconnecting' && phaseRef.current !== 'in') {
          setLoginNote(`Could not open the live stream: ${next.detail}. Trying again…`);
        }
      },
      onSnapshot: (snap) => {
        store.windowS = snap.window_s ?? 900;
        store.points = Array.isArray(snap.points) ? snap.points.slice() : [];
        trimWindow(store.points, store.windowS);
        store.state = snap.state;
        publish();
      },
      onTick: (tick) => {
        if (tick.point) {
          store.points.push(tick.point);
          trimWindow(store.points, store.windowS);
        }
        if (tick.state) store.state = tick.state;
        publish();
      },
      onUnauthorized: () => signOut(REJECTED),
    });
    // A new attempt (a token typed while retrying) restarts the connection; 'checking' → 'in' does not.
  }, [phase === 'login', attempt]);

  /** Runs one admin call and reports it in the status area; resolves to {ok, value} or {ok: false, error}. */
  const perform = async ({ pending, call, done, failed }) => {
    setStatus({ text: pending, kind: 'busy' });
    try {
      const value = await call();
      setStatus({ text: `${clock()} · ${done(value)}`, kind: 'ok' });
      return { ok: true, value };
    } catch (err) {
      if (err instanceof Unauthorized) {
        signOut(REJECTED);
        return { ok: false, error: '' };
      }
      const reason = err instanceof ApiError ? err.message : `no answer from the gateway (${err.message})`;
      setStatus({ text: `${clock()} · ${failed}: ${reason}`, kind: 'error' });
      return { ok: false, error: reason };
    }
  };

  const reload = () =>
    setConfirm({
      title: 'Reload configuration',
      message: 'Reload the configuration files? What they route is swapped in; requests in flight finish.',
      detail: 'If the files do not load, the running configuration goes on serving.',
      run: () =>
        perform({
          pending: 'Reloading the configuration…',
          call: () => adminCall('POST', '../admin/config/reload', {}),
          done: (res) =>
            res?.reloaded
              ? `Configuration reloaded (${String(res.config?.hash ?? '').slice(0, 12)}).`
              : 'Configuration unchanged: the files are the same as the running ones.',
          failed: 'Configuration not reloaded',
        }),
    });

  if (phase !== 'in') {
    return html`<${Login}
      error=${loginError}
      note=${loginNote}
      checking=${phase === 'checking' && !loginNote}
      onSubmit=${(token) => {
        try {
          setToken(token);
        } catch {
          setLoginError('This browser does not let the page keep the token for the tab (sessionStorage).');
          return;
        }
        setLoginError('');
        setLoginNote('');
        setAttempt((n) => n + 1);
        setPhase('checking');
      }}
    />`;
  }

  const state = live?.state;
  return html`<div class="app" data-testid="dashboard">
    <${Header}
      state=${state}
      conn=${conn}
      theme=${theme}
      onToggleTheme=${toggleTheme}
      onReload=${reload}
      onSignOut=${() => signOut('', 'You are signed out.')}
    />
    <div class=${`status ${status.kind}`} data-testid="status" role="status" aria-live="polite">
      ${status.text}
    </div>
    <main class="content">
      ${
        state
          ? html`
              <${Overview} points=${live.points} state=${state} version=${live.version} theme=${theme} />
              <${LanesSection}
                lanes=${state.lanes ?? []}
                point=${live.points[live.points.length - 1]}
                ask=${setConfirm}
                perform=${perform}
              />
              ${
                state.governance
                  ? html`<${KeysSection} keys=${state.keys ?? []} ask=${setConfirm} perform=${perform} />`
                  : null
              }
            `
          : html`<p class="muted">Waiting for the first snapshot…</p>`
      }
    </main>
    ${
      confirm
        ? html`<${ConfirmDialog} key=${confirm} request=${confirm} onClose=${() => setConfirm(null)} />`
        : null
    }
  </div>`;
}

render(html`<${App} />`, document.getElementById('app'));
