# The CLI reads the key from CROWDEE_API_KEY (never from a command-line argument) and the API from CROWDEE_API_URL.
crowdee whoami
