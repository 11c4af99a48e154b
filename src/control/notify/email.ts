import { createTransport } from 'nodemailer';

/**
 * E-mail over SMTP with nodemailer (the maintained Node mailer: pooling, TLS, MIME and header
 * encoding). Messages are plain text: what a reminder needs, readable in any client.
 */
export interface EmailMessage {
  readonly to: string;
  readonly subject: string;
  readonly text: string;
  /** Repeated on a retry, so the message is recognisably the same one. */
  readonly messageId: string;
  /** RFC 2369 and RFC 8058: the one-click unsubscribe a mail client shows next to the sender. */
  readonly unsubscribeUrl?: string;
}

export interface EmailSender {
  send(message: EmailMessage): Promise<void>;
  close(): void;
}

export function smtpSender(smtpUrl: string, from: string): EmailSender {
  // Pooled connections (nodemailer's default pool: 5), so a batch of reminders is not a handshake each.
  const url = new URL(smtpUrl);
  if (!url.searchParams.has('pool')) url.searchParams.set('pool', 'true');
  const transport = createTransport(url.toString(), { from });
  return {
    async send(m) {
      await transport.sendMail({
        to: m.to,
        subject: m.subject,
        text: m.text,
        messageId: m.messageId,
        ...(m.unsubscribeUrl === undefined
          ? {}
          : { headers: { 'List-Unsubscribe': `<${m.unsubscribeUrl}>`, 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' } }),
      });
    },
    close: () => transport.close(),
  };
}

/** The reminder a person asked for: the Space is live, here is the link. */
export function reminderEmail(o: {
  to: string;
  /** Set for a "starting soon" reminder: the scheduled start (ms since the epoch); null: live now. */
  startsAt: number | null;
  title: string;
  hostHandle: string;
  spaceUrl: string;
  unsubscribeUrl: string;
  messageId: string;
}): EmailMessage {
  const soon = o.startsAt !== null;
  const at = o.startsAt === null ? '' : utcMinute(o.startsAt);
  return {
    to: o.to,
    subject: soon ? `Starting soon: ${o.title}` : `Live now: ${o.title}`,
    text:
      (soon
        ? `@${o.hostHandle} goes live on Amphi at ${at}: "${o.title}".\n\n` +
          `Doors are open: take your place now and the player starts by itself: ${o.spaceUrl}\n\n`
        : `@${o.hostHandle} is live on Amphi: "${o.title}".\n\n` + `Listen now: ${o.spaceUrl}\n\n`) +
      `You get this because you asked to be reminded of this Space.\n` +
      `Stop reminders by e-mail: ${o.unsubscribeUrl}\n`,
    messageId: o.messageId,
    unsubscribeUrl: o.unsubscribeUrl,
  };
}

/** The link that proves an address belongs to the account that set it. */
export function verificationEmail(o: { to: string; handle: string; verifyUrl: string; messageId: string }): EmailMessage {
  return {
    to: o.to,
    subject: 'Confirm your e-mail address for Amphi',
    text:
      `Someone (we hope you, @${o.handle}) asked Amphi to send reminders to this address.\n\n` +
      `Confirm it: ${o.verifyUrl}\n\n` +
      `If it was not you, ignore this message: nothing will be sent to you.\n`,
    messageId: o.messageId,
  };
}

/** A time as people read it in a message: `2026-12-01 18:30 UTC`. */
export function utcMinute(ms: number): string {
  return `${new Date(ms).toISOString().replace('T', ' ').slice(0, 16)} UTC`;
}
