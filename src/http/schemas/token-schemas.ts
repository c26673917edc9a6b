// Bearer tokens on the wire. A token's secret appears in exactly one response: its creation.
import { Type } from 'typebox';
import { Id, Nullable, ref, Time } from './common.js';
import { literals } from './literals.js';
import { ROLES } from '../../domain/roles.js';

export const TokenRole = literals(ROLES, { description: 'admin: everything; operator: VMs, memory, sharing, migrations, probe and every read; auditor: reads and the audit API' });
// Names appear in every audit event as actor token:<name>: short, and safe in logs and CSV.
export const TokenName = Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9][A-Za-z0-9._-]*$' });

export const CreateTokenRequest = Type.Object({ name: TokenName, role: TokenRole }, { $id: 'CreateTokenRequest', additionalProperties: false });

export const Token = Type.Object({
  id: Id('tok'), name: Type.String(), role: TokenRole, createdAt: Time, revokedAt: Nullable(Time),
}, { $id: 'Token', additionalProperties: false, description: 'A bearer token, without its secret' });

export const IssuedToken = Type.Object({
  id: Id('tok'), name: Type.String(), role: TokenRole, createdAt: Time,
  token: Type.String({ description: 'The secret, shown only in this response: send it as Authorization: Bearer <token>' }),
}, { $id: 'IssuedToken', additionalProperties: false });

export const TokenList = Type.Object({ items: Type.Array(ref(Token)) }, { $id: 'TokenList', additionalProperties: false });

export const TOKEN_SCHEMAS = [CreateTokenRequest, Token, IssuedToken, TokenList];
