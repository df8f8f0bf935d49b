#!/usr/bin/env bash
# Deploys cartlens to Google Cloud: service accounts and permissions (deploy/iam.yaml), the export
# bucket's rules, the daily function (Cloud Run functions, not public) and its Cloud Scheduler job
# (OIDC). Review it, set the variables, run it from the repository root with gcloud logged in as
# someone allowed to do all this. Every step can be run again.
set -euo pipefail

PROJECT="${PROJECT:?set PROJECT, the Google Cloud project id}"
REGION="${REGION:-southamerica-east1}"
CONFIG="${CONFIG:-deploy/cartlens.gcp.yaml}"           # the pipeline config the function runs:
                                                       # cartlens.gcp.yaml (GA4's BigQuery export) or
                                                       # cartlens.gcp-api.yaml (the GA4 Data API)
SCHEDULE="${SCHEDULE:-30 6 * * *}"                     # every day at 06:30 …
TIME_ZONE="${TIME_ZONE:-America/Sao_Paulo}"            # … in the property's time zone
FUNCTION="${FUNCTION:-cartlens-daily}"
PIPELINE_SA="cartlens-pipeline@${PROJECT}.iam.gserviceaccount.com"
SCHEDULER_SA="cartlens-scheduler@${PROJECT}.iam.gserviceaccount.com"

step() { printf '\n== %s\n' "$*"; }

step "building dist/ (the compiled CLI that the npx cartlens steps below run)"
npm run build

step "checking the config and the permissions policy"
npx cartlens validate --config "$CONFIG"
npx cartlens iam lint deploy/iam.yaml

step "service accounts and grants (deploy/iam.yaml; the run.invoker grant needs the function, so it runs again below)"
npx cartlens iam plan deploy/iam.yaml > /tmp/cartlens-iam.sh
bash /tmp/cartlens-iam.sh || echo "(some grants wait for resources created below)"

step "the export bucket's rules (location, lifecycle, uniform access, public access prevention)"
npx cartlens gcp apply --config "$CONFIG"

# The user_key secret only where the config publishes user keys (the export path); the Data API
# path publishes aggregates and needs none.
SECRETS=()
if grep -q 'CARTLENS_USER_KEY_SECRET' "$CONFIG"; then SECRETS=(--set-secrets="CARTLENS_USER_KEY_SECRET=cartlens-user-key-secret:latest"); fi

# --source=. uploads the repository minus .gcloudignore (the one gcloud writes includes .gitignore,
# so neither node_modules/ nor dist/ is uploaded). Google's Node.js buildpack then installs every
# dependency (dev ones too, since there is a build script), runs `npm run gcp-build` (scripts/build.js:
# src/ → dist/, which function.js loads) and prunes the dev dependencies.
step "the daily function, private, running as the pipeline's service account"
gcloud functions deploy "$FUNCTION" \
  --project="$PROJECT" --region="$REGION" --gen2 --runtime=nodejs20 \
  --source=. --entry-point=cartlensDaily --trigger-http --no-allow-unauthenticated \
  --service-account="$PIPELINE_SA" \
  --memory=2GiB --cpu=2 --timeout=3600s --max-instances=1 --concurrency=1 \
  --set-env-vars="CARTLENS_CONFIG=${CONFIG},METADATA_SERVER_DETECTION=assume-present" \
  "${SECRETS[@]}"

URL="$(gcloud functions describe "$FUNCTION" --project="$PROJECT" --region="$REGION" --gen2 --format='value(serviceConfig.uri)')"

step "grants that needed the function (scheduler → run.invoker); the dashboard's table grants wait for the first run"
bash /tmp/cartlens-iam.sh

step "the Cloud Scheduler job, calling the function with an OIDC token"
if gcloud scheduler jobs describe "$FUNCTION" --project="$PROJECT" --location="$REGION" >/dev/null 2>&1; then verb=update; else verb=create; fi
gcloud scheduler jobs "$verb" http "$FUNCTION" \
  --project="$PROJECT" --location="$REGION" \
  --schedule="$SCHEDULE" --time-zone="$TIME_ZONE" \
  --uri="$URL" --http-method=POST --headers=Content-Type=application/json --message-body='{}' \
  --oidc-service-account-email="$SCHEDULER_SA" --oidc-token-audience="$URL" \
  --attempt-deadline=1800s --max-retry-attempts=3 --min-backoff=300s

step "done: ${URL} runs daily at '${SCHEDULE}' (${TIME_ZONE})"
