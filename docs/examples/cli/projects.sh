crowdee projects list --org "$CROWDEE_ORG_ID"
