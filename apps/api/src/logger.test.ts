import { generateKey, generateSessionBoundToken } from '@crowdee/core';
import { describe, expect, it } from 'vitest';
import { LogCapture } from '../test/helpers/test-app.ts';
import { createLogger } from './logger.ts';

describe('logger', () => {
  it('censors authorization and cookie headers and redacts anything key-shaped', () => {
    const capture = new LogCapture();
    const logger = createLogger({ logLevel: 'info' }, capture);
    const { key, hint } = generateKey();
    logger.info(
      {
        req: {
          headers: { authorization: `Bearer ${key}`, cookie: 'crowdee_session=abc.def', 'user-agent': 'ua' },
        },
      },
      'incoming',
    );
    logger.warn({ detail: `pasted ${key} in a name` }, `message with ${key}`);
    logger.error({ err: new Error(`failed for ${key}`) }, 'boom');
    const text = capture.text;
    expect(text).not.toContain(key);
    expect(text).not.toContain('abc.def');
    expect(text).toContain('[redacted]');
    expect(text).toContain(hint);
    expect(text).toContain('"user-agent":"ua"');
  });

  it('redacts a session token anywhere in a logged object, not only API keys', () => {
    const capture = new LogCapture();
    const logger = createLogger({ logLevel: 'info' }, capture);
    const { key: token } = generateSessionBoundToken();
    logger.warn(
      { nested: { list: [`sent ${token}`] }, at: new URL(`https://example.com/?t=${token}`) },
      'odd',
    );
    expect(capture.text).not.toContain(token);
    expect(capture.text).toContain('odd');
  });
});
