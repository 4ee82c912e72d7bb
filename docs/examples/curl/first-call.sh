# Who am I? The key in use, its creator, and its effective role in each organization it can reach.
curl -s "$CROWDEE_API_URL/api/v1/me" \
  -H "Authorization: Bearer $CROWDEE_API_KEY"
