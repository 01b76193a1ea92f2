// A yes/no question over the page. Cancel has the focus, so Enter never deletes by accident;
// Escape cancels.
export function Confirm(props: { text: string; onYes: () => void; onNo: () => void; yes?: string }) {
  return (
    <div
      className="modal-back"
      role="dialog"
      aria-modal="true"
      onKeyDown={(e) => e.key === 'Escape' && props.onNo()}
      onClick={(e) => e.target === e.currentTarget && props.onNo()}
    >
      <div className="modal" data-testid="confirm">
        <p>{props.text}</p>
        <div className="row">
          <button className="danger" onClick={props.onYes} data-testid="confirm-yes">
            {props.yes ?? 'Yes'}
          </button>
          <button onClick={props.onNo} autoFocus data-testid="confirm-no">
            Cancel
          </button>
        </div>
      </div>
    </div>
  );
}
