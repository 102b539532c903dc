// Modal dialogs: Modal opens a native <dialog> with showModal() while it is rendered (Escape = cancel), and
// ConfirmDialog is the Confirm/Cancel step every action goes through, with optional input fields.
import { html, useLayoutEffect, useRef, useState } from './vendor/preact-htm.js';

let nextId = 0;

/** A stable unique id for aria-labelledby / label-for within one component instance. */
export function useId(prefix) {
  const ref = useRef(null);
  if (ref.current === null) ref.current = `${prefix}-${++nextId}`;
  return ref.current;
}

export function Modal({ labelledBy, describedBy, testid, onCancel, className, children }) {
  const ref = useRef(null);
  const cancelRef = useRef(onCancel);
  cancelRef.current = onCancel;
  useLayoutEffect(() => {
    const dialog = ref.current;
    if (!dialog.open) dialog.showModal();
    const cancel = (event) => {
      event.preventDefault();
      cancelRef.current?.();
    };
    dialog.addEventListener('cancel', cancel);
    return () => {
      dialog.removeEventListener('cancel', cancel);
      if (dialog.open) dialog.close();
    };
  }, []);
  return html`<dialog
    ref=${ref}
    class=${`modal ${className ?? ''}`}
    aria-labelledby=${labelledBy}
    aria-describedby=${describedBy}
    data-testid=${testid}
  >
    ${children}
  </dialog>`;
}

/**
 * request: { title, message, detail?, danger?, Fields?, read?(form) → {value} | {error}, run(value) }.
 * Confirm closes the dialog and calls run(); with Fields, read() first turns the form into the value,
 * and an error keeps the dialog open with the message shown.
 */
export function ConfirmDialog({ request, onClose }) {
  const titleId = useId('confirm-title');
  const messageId = useId('confirm-message');
  const [error, setError] = useState('');
  const { title, message, detail, danger, Fields, read, run } = request;

  const submit = (event) => {
    event.preventDefault();
    let value;
    if (read) {
      const result = read(event.currentTarget);
      if (result.error) {
        setError(result.error);
        return;
      }
      value = result.value;
    }
    onClose();
    run(value);
  };

  return html`<${Modal}
    labelledBy=${titleId}
    describedBy=${messageId}
    testid="confirm-dialog"
    onCancel=${onClose}
  >
    <form class="dialog-form" onSubmit=${submit} novalidate>
      <h2 id=${titleId}>${title ?? 'Please confirm'}</h2>
      <p id=${messageId} class="dialog-message">${message}</p>
      ${detail ? html`<p class="muted">${detail}</p>` : null}
      ${Fields ? html`<${Fields} />` : null}
      ${error ? html`<p class="field-error" role="alert">${error}</p>` : null}
      <div class="dialog-buttons">
        <button type="button" class="button" onClick=${onClose} autofocus=${danger}>Cancel</button>
        <button
          type="submit"
          class=${danger ? 'button danger' : 'button primary'}
          autofocus=${!danger && !Fields}
        >
          Confirm
        </button>
      </div>
    </form>
  <//>`;
}
