# Create a project in an organization (needs a key whose effective role there is member or above).
curl -s -X POST "$CROWDEE_API_URL/api/v1/orgs/$CROWDEE_ORG_ID/projects" \
  -H "Authorization: Bearer $CROWDEE_API_KEY" \
  -H "Content-Type: application/json" \
  -d '{"name": "Nightly import", "description": "Created from the getting-started guide"}'
