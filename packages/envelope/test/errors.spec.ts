import { CodedError } from '@rony/interface'
import { describe, expect, it } from 'vitest'
import { invalidEnvelope, RonyError, rony, WIRE_ERRORS } from '../src/index.js'
import { hex, toHex } from './helpers.js'

const STATUS: [code: string, status: number][] = [
  ['E00', 500],
  ['E01', 400],
  ['E02', 503],
  ['E03', 429],
  ['E04', 400],
  ['E05', 400],
  ['E06', 504],
  ['E07', 403],
  ['E08', 409],
  ['E09', 503],
  ['E10', 400],
  ['E11', 500],
  ['E12', 410],
  ['E13', 501],
]

const DEFAULT_CODES: [code: string, derived: string][] = [
  ['E00', 'RONY_ERR_INTERNAL'],
  ['E01', 'RONY_ERR_INVALID'],
  ['E02', 'RONY_ERR_UNAVAILABLE'],
  ['E03', 'RONY_ERR_TOO_MANY'],
  ['E04', 'RONY_ERR_TOO_FEW'],
  ['E05', 'RONY_ERR_INCOMPLETE'],
  ['E06', 'RONY_ERR_TIMEOUT'],
  ['E07', 'RONY_ERR_ACCESS'],
  ['E08', 'RONY_ERR_ALREADY_EXISTS'],
  ['E09', 'RONY_ERR_BUSY'],
  ['E10', 'RONY_ERR_OUT_OF_RANGE'],
  ['E11', 'RONY_ERR_PARTIALLY_APPLIED'],
  ['E12', 'RONY_ERR_EXPIRED'],
  ['E13', 'RONY_ERR_NOT_IMPLEMENTED'],
  ['E99', 'RONY_ERR_REMOTE'],
  ['', 'RONY_ERR_REMOTE'],
  ['__proto__', 'RONY_ERR_REMOTE'],
]

describe('RonyError', () => {
  it('formats the message as Go does: CODE:ITEMS (description)', () => {
    expect(new RonyError('E01', 'ENVELOPE', 'truncated varint').message).toBe(
      'E01:ENVELOPE (truncated varint)',
    )
  })

  it('leaves out the parentheses without a description', () => {
    expect(new RonyError('E07', 'USER').message).toBe('E07:USER')
    expect(new RonyError('E07', 'USER', '').message).toBe('E07:USER')
  })

  it('keeps wireCode, items and description', () => {
    const error = new RonyError('E08', 'USER', 'exists')
    expect(error).toMatchObject({ wireCode: 'E08', items: 'USER', description: 'exists' })
    expect(new RonyError('E08', 'USER').description).toBe('')
  })

  it('knows every wire code E00–E13', () => {
    expect(Object.keys(WIRE_ERRORS)).toEqual(STATUS.map(([code]) => code))
  })

  it.each(STATUS)('%s has HTTP status %i', (code, status) => {
    expect(new RonyError(code, 'X').status).toBe(status)
    expect(WIRE_ERRORS[code as keyof typeof WIRE_ERRORS].status).toBe(status)
  })

  it.each(['E99', '', 'e01', 'toString', '__proto__'])('unknown code %j has status 500', (code) => {
    expect(new RonyError(code, 'X').status).toBe(500)
  })

  it.each(DEFAULT_CODES)('%j derives the default code %s', (wireCode, code) => {
    expect(new RonyError(wireCode, 'X').code).toBe(code)
  })

  it('takes an explicit code over the derived one', () => {
    const error = new RonyError('E01', 'ENVELOPE', 'big', { code: 'RONY_ERR_ENVELOPE_TOO_LARGE' })
    expect(error.code).toBe('RONY_ERR_ENVELOPE_TOO_LARGE')
    expect(error.message).toBe('E01:ENVELOPE (big)')
    expect(error.status).toBe(400)
  })

  it('keeps the cause, and does not leak the code option onto the Error options', () => {
    const cause = new Error('socket closed')
    const error = new RonyError('E02', 'LEADER', '', { cause, code: 'RONY_ERR_X' })
    expect(error.cause).toBe(cause)
    expect(error.code).toBe('RONY_ERR_X')
    expect('cause' in new RonyError('E02', 'LEADER')).toBe(false)
  })

  it('is named RonyError and is an Error and a CodedError with a stack', () => {
    const error = new RonyError('E00', 'HANDLER')
    expect(error.name).toBe('RonyError')
    expect(error).toBeInstanceOf(Error)
    expect(error).toBeInstanceOf(CodedError)
    expect(error.stack).toContain('RonyError')
    expect(Object.prototype.toString.call(error)).toBe('[object Error]')
  })

  it('toWire gives the rony.Error fields', () => {
    expect(new RonyError('E03', 'REQUESTS', 'slow down').toWire()).toEqual({
      Code: 'E03',
      Items: 'REQUESTS',
      Description: 'slow down',
    })
  })

  it('round-trips through rony.Error encode/decode', () => {
    for (const original of [
      new RonyError('E01', 'ENVELOPE', 'truncated'),
      new RonyError('E07', 'USER'),
      new RonyError('E99', 'CUSTOM', 'from a newer server'),
      new RonyError('E13', 'Ünïcode', '説明 😀'),
    ]) {
      const bytes = rony.Error.encode(original.toWire()).finish()
      const back = RonyError.fromWire(rony.Error.decode(bytes))
      expect(back).toBeInstanceOf(RonyError)
      expect(back.toWire()).toEqual(original.toWire())
      expect(back.message).toBe(original.message)
      expect(back.code).toBe(original.code)
      expect(back.status).toBe(original.status)
    }
  })

  it('writes the wire Error as expected (Code = 1, Items = 2, Description = 3)', () => {
    // 0a 03 "E01", 12 08 "ENVELOPE", 1a 01 "x"
    const bytes = rony.Error.encode(new RonyError('E01', 'ENVELOPE', 'x').toWire()).finish()
    expect(toHex(bytes)).toBe(toHex(hex('0a 03 453031  12 08 454e56454c4f5045  1a 01 78')))
  })

  it('fromWire fills in missing fields', () => {
    const empty = RonyError.fromWire(rony.Error.decode(new Uint8Array(0)))
    expect(empty.toWire()).toEqual({ Code: 'E00', Items: '', Description: '' })
    expect(RonyError.fromWire({ Code: null, Items: null, Description: null }).message).toBe('E00:')
    expect(RonyError.fromWire({}).status).toBe(500)
  })
})

describe('invalidEnvelope', () => {
  it('is E01/ENVELOPE with RONY_ERR_INVALID_ENVELOPE unless told otherwise', () => {
    const error = invalidEnvelope('truncated message')
    expect(error).toBeInstanceOf(RonyError)
    expect(error.message).toBe('E01:ENVELOPE (truncated message)')
    expect(error.code).toBe('RONY_ERR_INVALID_ENVELOPE')
    expect(invalidEnvelope('x', 'RONY_ERR_BAD_FRAME').code).toBe('RONY_ERR_BAD_FRAME')
  })
})
