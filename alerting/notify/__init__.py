"""Notifications, the delivery edge of on-call: messages, channels, SSRF checks, action links.

- `message`: `Notification`, one message about one ticket, and its renderings.
- `channels`: the `CHANNELS` table (webhook, slack, email, file) and `Channel`; each kind
  lives in its module (`webhook`, `slack`, `email_channel`, `file_channel`), the HTTP ones
  posting through `http_post` (with `tls`, `secret_file`, `send_context`).
- `delivery`: `Delivery`, what one attempt came to, and how answers are classified.
- `signature`: the webhook's `X-Regie-Signature` (HMAC-SHA256, timestamped).
- `ssrf`: outbound URL checks and the address-pinning resolver.
- `links`: signed one-click ack/resolve tokens.

Nothing here imports aiosmtplib until an email is sent, and nothing runs at import.
"""
