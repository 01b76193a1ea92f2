export function Confirm(props: { text: string; onYes: () => void; onNo: () => void; yes?: string }) {
  return (
    <div className="modal-back" role="dialog" aria-modal="true">
      <div className="modal" data-testid="confirm">
        <p>{props.text}</p>
        <div className="row">
          <button className="danger" onClick={props.onYes} data-testid="confirm-yes">
            {props.yes ?? 'Yes'}
          </button>
          <button onClick={props.onNo} autoFocus>
            Cancel
          </button>
        </div>
      </div>
    </div>
  );
}
