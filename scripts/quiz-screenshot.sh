#!/usr/bin/env bash
# Render the Word quiz handout the way a trainer would see it: `assistant quiz --format docx` →
# LibreOffice headless → PDF → PNG pages in evals/reports/screenshots/ (issue 17). Not part of the
# test command (tests never modify tracked files): run it by hand after changing the handout.
#   bash scripts/quiz-screenshot.sh [extra `assistant quiz` flags]
# Needs Debian's LibreOffice Writer, poppler-utils and CJK fonts (installed here when missing).
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v soffice >/dev/null || ! command -v pdftoppm >/dev/null || ! dpkg -s fonts-noto-cjk >/dev/null 2>&1; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    libreoffice-writer-nogui poppler-utils fonts-noto-cjk
fi
export HF_HUB_OFFLINE=1 HF_HUB_DISABLE_TELEMETRY=1 GRADIO_ANALYTICS_ENABLED=False
tmp=$(mktemp -d -t quiz-shot-XXXX)
trap 'rm -rf "$tmp"' EXIT
out=evals/reports/screenshots
mkdir -p "$out"
.venv/bin/assistant quiz --kinds 填空=3,單選=3,多選=2,判斷=3 --points 填空=2,單選=2,多選=4,判斷=1 --seed 7 \
  --format docx --out "$tmp/quiz_handout.docx" "$@"
# A private LibreOffice profile: never the user's, never left behind.
soffice -env:UserInstallation="file://$tmp/lo-profile" --headless --convert-to pdf --outdir "$tmp" \
  "$tmp/quiz_handout.docx" >/dev/null
rm -f "$out"/quiz_handout-*.png
pdftoppm -png -r 70 "$tmp/quiz_handout.pdf" "$out/quiz_handout"
ls -1 "$out"/quiz_handout-*.png
