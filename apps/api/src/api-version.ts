/**
 * The API's version, as the OpenAPI document, `/status` and discovery report it. Its own module so that routers and
 * the REST layer (which imports the routers) can both read it without importing each other.
 */
export const API_VERSION = '1.0.0';
