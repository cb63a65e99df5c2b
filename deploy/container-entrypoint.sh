#!/bin/sh
# The image's entrypoint. Without arguments: check the configuration, then
# run the bot, as the systemd unit does (ExecStartPre=check-config), so a
# bad file or SHEPHERD_* variable stops the container with its reason
# before anything starts. With arguments: `shepherd ARGS…` (e.g. sandbox,
# check-config FILE, why PKG --excuses FILE).
set -eu
config=/etc/shepherd/shepherd.toml
if [ "$#" -gt 0 ]; then
  exec /usr/local/bin/shepherd "$@"
fi
# Its report (secrets redacted) goes to the log with the bot's own lines.
/usr/local/bin/shepherd check-config "$config" >&2
# exec: the bot is PID 1 and receives SIGTERM itself.
exec /usr/local/bin/shepherd run --config "$config"
