/** A page's error, read out at once (`role="alert"`); nothing when empty. */
export function Alert({ text }: { text: string }) {
  return text === '' ? null : (
    <p role="alert" class="error">
      {text}
    </p>
  );
}

/** A page's news (done, saved, sent), read out politely (`role="status"`); nothing when empty. */
export function Status({ text }: { text: string }) {
  return text === '' ? null : (
    <p role="status" class="notice">
      {text}
    </p>
  );
}
