/** A throw-away database on the FerretDB the global setup started; dropped after the suite. */
import { afterAll, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { MongoClient } from 'mongodb';

export function ferretDatabase(prefix: string): { dbName: string; url: () => string } {
  const url = process.env.MONGODB_URL;
  const dbName = `${prefix}_${randomBytes(6).toString('hex')}`;

  afterAll(async () => {
    if (!url) return;
    const client = new MongoClient(url, { serverSelectionTimeoutMS: 5000 });
    try {
      await client.db(dbName).dropDatabase();
    } finally {
      await client.close();
    }
  });

  it('gets MONGODB_URL from the global setup', () => {
    expect(url).toMatch(/^mongodb:\/\//);
  });

  return {
    dbName,
    /** Fails (never skips): test/support/global-setup.mjs always provides MONGODB_URL. */
    url() {
      if (!url) {
        throw new Error('MONGODB_URL is not set: jest globalSetup (test/support/global-setup.mjs) should have started FerretDB and set it');
      }
      return url;
    },
  };
}
