# A first-party service acting for a signed-in user calls the same API with the session token it was handed.
curl -s "$CROWDEE_API_URL/api/v1/orgs/$CROWDEE_ORG_ID/projects?limit=1" \
  -H "Authorization: Bearer $CROWDEE_SESSION_TOKEN"
