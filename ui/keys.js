// The virtual keys table and its actions: enable/disable, change budget, revoke, and minting a key whose
// secret is shown once (POST/PATCH/DELETE /admin/keys).
import { adminCall } from './api.js';
import { Modal, useId } from './dialogs.js';
import { count, dollars } from './format.js';
import { Bar } from './lanes.js';
import { html, useRef, useState } from './vendor/preact-htm.js';

const PERIOD_WORDS = { total: 'in total', daily: 'today', monthly: 'this month' };

/** A number input's text; '?' when the browser holds something that is not a number (which reads as ''). */
function textOf(input) {
  return input.validity?.badInput ? '?' : input.value;
}

/** Dollars typed by the operator → integer cents; '' → null (no cap). */
export function parseDollars(text) {
  const s = String(text ?? '').trim();
  if (s === '') return { value: null };
  if (!/^\d+(\.\d{0,2})?$/.test(s)) return { error: 'Enter the budget in dollars, like 25 or 12.50.' };
  return { value: Math.round(Number(s) * 100) };
}

/** A whole number ≥ 1, or null when empty. */
function parseLimit(text, label) {
  const s = String(text ?? '').trim();
  if (s === '') return { value: null };
  if (!/^\d+$/.test(s) || Number(s) < 1 || Number(s) > 4294967295) {
    return { error: `${label} must be a whole number of at least 1, or empty for no limit.` };
  }
  return { value: Number(s) };
}

function limitText(used, limit) {
  return limit == null ? `${count(used)} / no limit` : `${count(used)} / ${count(limit)}`;
}

function Spend({ k }) {
  const capped = k.max_budget_cents != null;
  return html`<td data-testid="key-spend" data-cents=${String(k.spend_cents)}>
    <span class="usage">
      <span>
        ${dollars(k.spend_cents)}${capped ? ` of ${dollars(k.max_budget_cents)}` : ' · no cap'}
        <span class="why">${PERIOD_WORDS[k.budget_period] ?? k.budget_period}</span>
      </span>
      <${Bar} used=${k.spend_cents} limit=${capped ? k.max_budget_cents : null} />
    </span>
  </td>`;
}

function BudgetFields() {
  const [noCap, setNoCap] = useState(false);
  return html`<div class="fields">
    <div class="field">
      <label for="budget-usd">Budget (USD)</label>
      <input
        id="budget-usd"
        name="budget"
        type="number"
        inputmode="decimal"
        min="0"
        step="0.01"
        disabled=${noCap}
        autofocus
        aria-describedby="budget-usd-hint"
      />
      <span id="budget-usd-hint" class="hint">Empty also means no cap.</span>
    </div>
    <label class="check">
      <input
        type="checkbox"
        name="nocap"
        checked=${noCap}
        onChange=${(e) => setNoCap(e.currentTarget.checked)}
      />
      No cap
    </label>
  </div>`;
}

function readBudget(form) {
  if (form.elements.nocap.checked) return { value: null };
  return parseDollars(textOf(form.elements.budget));
}

function MintDialog({ onClose, onMinted, perform }) {
  const titleId = useId('mint-title');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);

  const submit = async (event) => {
    event.preventDefault();
    const f = event.currentTarget.elements;
    const name = f.keyname.value.trim();
    if (!name) {
      setError('A name is required.');
      f.keyname.focus();
      return;
    }
    const budget = parseDollars(textOf(f.budget));
    const rpm = parseLimit(textOf(f.rpm), 'RPM limit');
    const tpm = parseLimit(textOf(f.tpm), 'TPM limit');
    const invalid = budget.error ?? rpm.error ?? tpm.error;
    if (invalid) {
      setError(invalid);
      return;
    }
    const body = {
      name,
      allowed_pools: f.pools.value
        .split(',')
        .map((p) => p.trim())
        .filter(Boolean),
      max_budget_cents: budget.value,
      budget_period: f.period.value,
      rpm_limit: rpm.value,
      tpm_limit: tpm.value,
    };
    setError('');
    setBusy(true);
    const outcome = await perform({
      pending: `Minting key ${name}…`,
      call: () => adminCall('POST', '../admin/keys', body),
      done: () => `Key ${name} minted.`,
      failed: `Could not mint key ${name}`,
    });
    setBusy(false);
    if (outcome.ok) onMinted(outcome.value);
    else if (outcome.error) setError(outcome.error);
  };

  return html`<${Modal} labelledBy=${titleId} onCancel=${onClose} testid="mint-dialog">
    <form class="dialog-form" onSubmit=${submit} novalidate>
      <h2 id=${titleId}>Mint a key</h2>
      <div class="fields grid">
        <div class="field wide">
          <label for="mint-name">Name</label>
          <input id="mint-name" name="keyname" required autocomplete="off" autofocus />
        </div>
        <div class="field wide">
          <label for="mint-pools">Allowed pools</label>
          <input id="mint-pools" name="pools" autocomplete="off" aria-describedby="mint-pools-hint" />
          <span id="mint-pools-hint" class="hint">Comma separated; empty allows every pool.</span>
        </div>
        <div class="field">
          <label for="mint-budget">Budget (USD)</label>
          <input
            id="mint-budget"
            name="budget"
            type="number"
            inputmode="decimal"
            min="0"
            step="0.01"
            aria-describedby="mint-budget-hint"
          />
          <span id="mint-budget-hint" class="hint">Empty: no cap.</span>
        </div>
        <div class="field">
          <label for="mint-period">Budget period</label>
          <select id="mint-period" name="period">
            <option value="total">total</option>
            <option value="daily">daily</option>
            <option value="monthly">monthly</option>
          </select>
        </div>
        <div class="field">
          <label for="mint-rpm">RPM limit</label>
          <input id="mint-rpm" name="rpm" type="number" inputmode="numeric" min="1" step="1" />
        </div>
        <div class="field">
          <label for="mint-tpm">TPM limit</label>
          <input id="mint-tpm" name="tpm" type="number" inputmode="numeric" min="1" step="1" />
        </div>
      </div>
      <p class="hint">Empty limits mean no limit.</p>
      ${error ? html`<p class="field-error" role="alert">${error}</p>` : null}
      <div class="dialog-buttons">
        <button type="button" class="button" onClick=${onClose}>Cancel</button>
        <button type="submit" class="button primary" disabled=${busy}>Mint</button>
      </div>
    </form>
  <//>`;
}

/** Shows a new key's secret once; Done (or Escape) drops it from the page's state. */
function SecretDialog({ minted, onDone }) {
  const titleId = useId('secret-title');
  const field = useRef(null);
  const [note, setNote] = useState('');

  const copy = async () => {
    try {
      if (!navigator.clipboard?.writeText) throw new Error('no clipboard');
      await navigator.clipboard.writeText(minted.secret);
      setNote('Copied to the clipboard.');
    } catch {
      // No Clipboard API (plain http off localhost) or permission refused: select the text instead.
      field.current.focus();
      field.current.select();
      const copied = document.execCommand?.('copy');
      setNote(
        copied ? 'Copied to the clipboard.' : 'Copying is blocked: the secret is selected, press Ctrl+C.',
      );
    }
  };

  return html`<${Modal} labelledBy=${titleId} onCancel=${onDone} testid="secret-dialog">
    <div class="dialog-form">
      <h2 id=${titleId}>Key ${minted.name} minted</h2>
      <p>Store the secret now: it is shown only this once and cannot be read again.</p>
      <div class="field">
        <label for="minted-secret">Secret of ${minted.name} (${minted.id})</label>
        <div class="secret-row">
          <input
            id="minted-secret"
            ref=${field}
            data-testid="minted-secret"
            type="text"
            readonly
            value=${minted.secret}
            autocomplete="off"
            spellcheck="false"
            onFocus=${(e) => e.currentTarget.select()}
          />
          <button type="button" class="button" onClick=${copy}>Copy</button>
        </div>
      </div>
      <p class="hint" role="status" aria-live="polite">${note}</p>
      <div class="dialog-buttons">
        <button type="button" class="button primary" onClick=${onDone}>Done</button>
      </div>
    </div>
  <//>`;
}

export function KeysSection({ keys, ask, perform }) {
  const [minting, setMinting] = useState(false);
  const [minted, setMinted] = useState(null);

  const path = (k) => `../admin/keys/${encodeURIComponent(k.id)}`;

  const toggle = (k) => {
    const enabled = !k.enabled;
    ask({
      title: enabled ? 'Enable key' : 'Disable key',
      message: enabled
        ? `Enable key ${k.name}? Requests with it will be accepted again.`
        : `Disable key ${k.name}? Requests with it will be refused until it is enabled again.`,
      danger: !enabled,
      run: () =>
        perform({
          pending: `${enabled ? 'Enabling' : 'Disabling'} key ${k.name}…`,
          call: () => adminCall('PATCH', path(k), { enabled }),
          done: () => `Key ${k.name} ${enabled ? 'enabled' : 'disabled'}.`,
          failed: `Could not ${enabled ? 'enable' : 'disable'} key ${k.name}`,
        }),
    });
  };

  const changeBudget = (k) => {
    const now = k.max_budget_cents == null ? 'no cap' : dollars(k.max_budget_cents);
    ask({
      title: 'Change budget',
      message: `Change the budget of key ${k.name}? It is ${now} now (${k.budget_period}).`,
      Fields: BudgetFields,
      read: readBudget,
      run: (cents) =>
        perform({
          pending: `Changing the budget of key ${k.name}…`,
          call: () => adminCall('PATCH', path(k), { max_budget_cents: cents }),
          done: () => `Budget of key ${k.name} set to ${cents == null ? 'no cap' : dollars(cents)}.`,
          failed: `Could not change the budget of key ${k.name}`,
        }),
    });
  };

  const revoke = (k) => {
    ask({
      title: 'Revoke key',
      message: `Revoke key ${k.name}? Requests with it will be refused at once.`,
      detail: 'The key and its spend history are deleted. This cannot be undone.',
      danger: true,
      run: () =>
        perform({
          pending: `Revoking key ${k.name}…`,
          call: () => adminCall('DELETE', path(k)),
          done: () => `Key ${k.name} revoked.`,
          failed: `Could not revoke key ${k.name}`,
        }),
    });
  };

  const onMinted = (key) => {
    setMinting(false);
    setMinted({ id: key.id, name: key.name, secret: key.secret });
  };

  return html`<section class="panel" aria-labelledby="keys-title">
    <div class="panel-head">
      <h2 id="keys-title">Keys <span class="count">${keys.length}</span></h2>
      <button type="button" class="button primary" onClick=${() => setMinting(true)}>Mint key</button>
    </div>
    ${
      keys.length === 0
        ? html`<p class="muted">No keys yet. Mint one to give a client access.</p>`
        : html`<div class="table-wrap">
            <table aria-labelledby="keys-title">
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">ID</th>
                  <th scope="col">Enabled</th>
                  <th scope="col">Spend / budget</th>
                  <th scope="col" class="num">Tokens</th>
                  <th scope="col" class="num">RPM used / limit</th>
                  <th scope="col" class="num">TPM used / limit</th>
                  <th scope="col"><span class="sr-only">Actions</span></th>
                </tr>
              </thead>
              <tbody>
                ${keys.map(
                  (k) => html`<tr
                    key=${k.id}
                    data-testid="key-row"
                    data-key-id=${k.id}
                    data-key-name=${k.name}
                    class=${k.enabled ? '' : 'disabled'}
                  >
                    <th scope="row">${k.name}</th>
                    <td><code>${k.id}</code></td>
                    <td>
                      <span class=${k.enabled ? 'avail yes' : 'avail no'}>
                        ${k.enabled ? 'Enabled' : 'Disabled'}
                      </span>
                    </td>
                    <${Spend} k=${k} />
                    <td class="num">${count(k.tokens)}</td>
                    <td class="num">${limitText(k.rpm_used, k.rpm_limit)}</td>
                    <td class="num">${limitText(k.tpm_used, k.tpm_limit)}</td>
                    <td class="actions">
                      <button type="button" class="button small" onClick=${() => toggle(k)}>
                        ${k.enabled ? 'Disable' : 'Enable'}<span class="sr-only"> ${k.name}</span>
                      </button>
                      <button type="button" class="button small" onClick=${() => changeBudget(k)}>
                        Change budget<span class="sr-only"> of ${k.name}</span>
                      </button>
                      <button type="button" class="button small danger" onClick=${() => revoke(k)}>
                        Revoke<span class="sr-only"> ${k.name}</span>
                      </button>
                    </td>
                  </tr>`,
                )}
              </tbody>
            </table>
          </div>`
    }
    ${
      minting
        ? html`<${MintDialog} onClose=${() => setMinting(false)} onMinted=${onMinted} perform=${perform} />`
        : null
    }
    ${minted ? html`<${SecretDialog} minted=${minted} onDone=${() => setMinted(null)} />` : null}
  </section>`;
}
