// The lanes table: breaker state, availability and recovery, in-flight load, counts and rate per lane, and
// the Drain/Undrain action (PATCH /admin/lanes/{name}).
import { adminCall } from './api.js';
import { count, decimal, unavailableText } from './format.js';
import { perSecond } from './metrics.js';
import { html } from './vendor/preact-htm.js';

function Breaker({ state }) {
  return html`<td data-testid="lane-breaker"><span class=${`badge breaker-${state}`}>${state}</span></td>`;
}

function Availability({ lane }) {
  const why = unavailableText(lane);
  return html`<td data-testid="lane-available" data-available=${String(lane.available)}>
    <span class=${lane.available ? 'avail yes' : 'avail no'}>
      ${lane.available ? 'Available' : 'Unavailable'}
    </span>
    ${lane.drained ? html` <span class="tag">drained</span>` : null}
    ${why ? html`<span class="why">${why}</span>` : null}
  </td>`;
}

/** A small bar for used/limit; no bar without a limit. Decorative: the numbers next to it carry the value. */
export function Bar({ used, limit }) {
  if (limit == null || !(limit > 0)) return null;
  const share = Math.min(1, used / limit);
  const level = share >= 1 ? 'full' : share >= 0.8 ? 'high' : 'ok';
  return html`<span class="bar" aria-hidden="true">
    <span class=${`bar-fill ${level}`} style=${{ width: `${(share * 100).toFixed(1)}%` }}></span>
  </span>`;
}

function Inflight({ lane }) {
  const limit = lane.max_concurrent;
  return html`<td class="num">
    <span class="usage">
      <span>${count(lane.inflight)} / ${limit == null ? 'no limit' : count(limit)}</span>
      <${Bar} used=${lane.inflight} limit=${limit} />
    </span>
  </td>`;
}

/** Requests per second of one lane in the newest point. */
function laneRate(point, name) {
  return perSecond(point, point?.lanes?.[name]?.requests ?? 0);
}

export function LanesSection({ lanes, point, ask, perform }) {
  const drain = (lane) => {
    const drained = !lane.drained;
    ask({
      title: drained ? 'Drain lane' : 'Undrain lane',
      message: drained
        ? `Drain lane ${lane.name}? Pools stop sending it new requests; requests in flight finish.`
        : `Undrain lane ${lane.name}? Pools send it requests again, at its configured weights.`,
      detail: drained ? 'Its direct route (its own model name) still reaches it.' : undefined,
      run: () =>
        perform({
          pending: `${drained ? 'Draining' : 'Undraining'} lane ${lane.name}…`,
          call: () => adminCall('PATCH', `../admin/lanes/${encodeURIComponent(lane.name)}`, { drained }),
          done: () => `Lane ${lane.name} ${drained ? 'drained' : 'undrained'}.`,
          failed: `Could not ${drained ? 'drain' : 'undrain'} lane ${lane.name}`,
        }),
    });
  };

  return html`<section class="panel" aria-labelledby="lanes-title">
    <h2 id="lanes-title">Lanes <span class="count">${lanes.length}</span></h2>
    ${
      lanes.length === 0
        ? html`<p class="muted">No lanes are configured.</p>`
        : html`<div class="table-wrap">
            <table aria-labelledby="lanes-title">
              <thead>
                <tr>
                  <th scope="col">Lane</th>
                  <th scope="col">Provider</th>
                  <th scope="col">Pools</th>
                  <th scope="col">Breaker</th>
                  <th scope="col">Availability</th>
                  <th scope="col" class="num">In flight / limit</th>
                  <th scope="col" class="num">OK</th>
                  <th scope="col" class="num">Errors</th>
                  <th scope="col" class="num">Req/s</th>
                  <th scope="col"><span class="sr-only">Actions</span></th>
                </tr>
              </thead>
              <tbody>
                ${lanes.map(
                  (lane) => html`<tr
                    key=${lane.name}
                    data-testid="lane-row"
                    data-lane=${lane.name}
                    class=${lane.drained ? 'drained' : ''}
                  >
                    <th scope="row">${lane.name}</th>
                    <td>${lane.provider}</td>
                    <td>${(lane.pools ?? []).join(', ')}</td>
                    <${Breaker} state=${lane.breaker} />
                    <${Availability} lane=${lane} />
                    <${Inflight} lane=${lane} />
                    <td class="num">${count(lane.ok)}</td>
                    <td class="num">${count(lane.err)}</td>
                    <td class="num">${decimal(laneRate(point, lane.name))}</td>
                    <td class="actions">
                      <button type="button" class="button small" onClick=${() => drain(lane)}>
                        ${lane.drained ? 'Undrain' : 'Drain'}<span class="sr-only"> ${lane.name}</span>
                      </button>
                    </td>
                  </tr>`,
                )}
              </tbody>
            </table>
          </div>`
    }
  </section>`;
}
