// GovESB wire operations done with Node's own crypto, as the JS helpers do (spec §4, §10), for
// tests/interop/test_govesb_wire.py. Built-in modules only.
//
// Reads one JSON request on stdin and writes one JSON answer on stdout:
//   {"verify":  [{"text", "signature", "publicKey"}]}   -> {"verified":  [true|false, ...]}
//   {"sign":    [{"text", "privateKey"}]}               -> {"signatures": ["<b64 DER>", ...]}
//   {"decrypt": [{"sealed", "privateKey"}]}             -> {"decrypted": ["<text>", ...]}
//   {"encrypt": [{"plaintext", "publicKey"}]}           -> {"sealed": [{...}, ...]}
// Keys are bare base64 DER: SPKI for public keys, PKCS#8 for private keys.

import {
  createCipheriv,
  createDecipheriv,
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
  hkdfSync,
  randomBytes,
  sign,
  verify,
} from 'node:crypto';

const publicKey = (b64) =>
  createPublicKey({ key: Buffer.from(b64, 'base64'), format: 'der', type: 'spki' });
const privateKey = (b64) =>
  createPrivateKey({ key: Buffer.from(b64, 'base64'), format: 'der', type: 'pkcs8' });

function aesKey(ownPrivate, otherPublic) {
  const shared = diffieHellman({ privateKey: ownPrivate, publicKey: otherPublic });
  return Buffer.from(hkdfSync('sha256', shared, Buffer.alloc(32), 'aes-encryption', 32));
}

function encrypt(plaintext, recipient) {
  const namedCurve = recipient.asymmetricKeyDetails.namedCurve;
  const ephemeral = generateKeyPairSync('ec', { namedCurve });
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', aesKey(ephemeral.privateKey, recipient), iv);
  const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  const pem = ephemeral.publicKey.export({ type: 'spki', format: 'pem' });
  return {
    ephemeralKey: Buffer.from(pem, 'utf8').toString('base64'),
    iv: iv.toString('base64'),
    encryptedData: Buffer.concat([cipher.getAuthTag(), ciphertext]).toString('base64'),
  };
}

function decrypt(sealed, recipient) {
  const ephemeral = createPublicKey(Buffer.from(sealed.ephemeralKey, 'base64').toString('utf8'));
  const data = Buffer.from(sealed.encryptedData, 'base64');
  const decipher = createDecipheriv(
    'aes-256-gcm',
    aesKey(recipient, ephemeral),
    Buffer.from(sealed.iv, 'base64'),
  );
  decipher.setAuthTag(data.subarray(0, 16));
  return Buffer.concat([decipher.update(data.subarray(16)), decipher.final()]).toString('utf8');
}

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const request = JSON.parse(Buffer.concat(chunks).toString('utf8'));

const answer = {
  verified: (request.verify ?? []).map(({ text, signature, publicKey: key }) =>
    verify(
      'sha256',
      Buffer.from(text, 'utf8'),
      { key: publicKey(key), dsaEncoding: 'der' },
      Buffer.from(signature, 'base64'),
    ),
  ),
  signatures: (request.sign ?? []).map(({ text, privateKey: key }) =>
    sign('sha256', Buffer.from(text, 'utf8'), {
      key: privateKey(key),
      dsaEncoding: 'der',
    }).toString('base64'),
  ),
  decrypted: (request.decrypt ?? []).map(({ sealed, privateKey: key }) =>
    decrypt(sealed, privateKey(key)),
  ),
  sealed: (request.encrypt ?? []).map(({ plaintext, publicKey: key }) =>
    encrypt(plaintext, publicKey(key)),
  ),
};
process.stdout.write(JSON.stringify(answer));
