# Every answer says which budget it was charged to and what is left of it.
curl -s -o /dev/null -D - "$CROWDEE_API_URL/api/v1/me" \
  -H "Authorization: Bearer $CROWDEE_API_KEY" | grep -i '^ratelimit'
