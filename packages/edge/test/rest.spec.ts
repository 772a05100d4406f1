/**
 * REST bindings of a generated service (`rony_rest`, test/gen/rest.js from
 * proto/test/rest.proto): the routes the gateways get, and requests built by the edge from a
 * body in either encoding and the URL values a gateway read, as `meta.rest` brings them.
 */
import { C_Error, decodeEnvelope, type Envelope, parseJson, RonyError, rony } from '@rony/envelope'
import type {
  Gateway,
  GatewayConn,
  GatewayHandlers,
  PayloadFormat,
  RestRoute,
} from '@rony/interface'
import { afterEach, describe, expect, it } from 'vitest'
import { createEdge, type Edge, memoryGateway, silentLogger } from '../src/index.js'
import { C_ShopGetItem, C_ShopPutItem, C_ShopSearch, resttest, Shop } from './gen/rest.js'

const { Item, ItemRequest } = resttest

interface Reply {
  readonly bytes: Uint8Array
  readonly format: PayloadFormat
}

/** A gateway that hands the edge REST calls as an HTTP gateway does, one connection each. */
class RestDriver implements Gateway {
  readonly name = 'rest'
  readonly features = { serverPush: false, json: true, maxMessageSize: 1 << 20 }
  handlers: GatewayHandlers | undefined
  private nextId = 1

  attach(handlers: GatewayHandlers): void {
    this.handlers = handlers
  }
  addresses(): string[] {
    return []
  }
  async start(): Promise<void> {}
  async stop(): Promise<void> {}

  get routes(): readonly RestRoute[] {
    return this.handlers?.restRoutes ?? []
  }

  route(method: string, path: string): RestRoute {
    const route = this.routes.find((r) => r.method === method && r.path === path)
    if (route === undefined) throw new Error(`no route ${method} ${path}`)
    return route
  }

  call(route: RestRoute, body: Uint8Array, values: Record<string, string> = {}): Promise<Reply> {
    const handlers = this.handlers as GatewayHandlers
    return new Promise((resolve) => {
      const conn: GatewayConn = {
        id: this.nextId++,
        persistent: false,
        remoteAddress: '127.0.0.1:1',
        protocol: 'http',
        closed: false,
        send(bytes, format = 'binary') {
          if (this.closed) return false
          ;(this as { closed: boolean }).closed = true
          resolve({ bytes: bytes.slice(), format })
          handlers.onClose(conn, { initiator: 'local' })
          return true
        },
        close() {},
      }
      handlers.onConnect(conn)
      handlers.onMessage(conn, body, {
        headers: new Map(),
        format: route.encoding,
        rest: { route, values: new Map(Object.entries(values)) },
      })
    })
  }
}

const edges: Edge[] = []
afterEach(async () => {
  await Promise.all(edges.splice(0).map((edge) => edge.stop({ timeout: 50 })))
})

/** The Shop service on an edge; each method echoes its request, and records its ctor. */
async function shop() {
  const driver = new RestDriver()
  const edge = createEdge({ id: 'n1', gateways: [driver], logger: silentLogger })
  edges.push(edge)
  const ctors: bigint[] = []
  edge.use(async (ctx, next) => {
    ctors.push(ctx.ctor)
    await next()
  })
  // GetItem and PutItem share a request type; REST routes by the method's own id anyway.
  edge.service(
    Shop,
    {
      getItem: (req) => Item.create({ ...req, Text: 'get' }),
      updateItem: (req) => Item.create({ ...req, Text: 'update' }),
      putItem: (req) => Item.create({ ...req, Text: 'put' }),
      search: (req) => Item.create({ Text: `${req.RandomText}|${req.searchText}` }),
    },
    { byRequestType: false },
  )
  await edge.start()
  return { edge, driver, ctors }
}

const utf8 = new TextEncoder()
const NO_BODY: Uint8Array = new Uint8Array(0)
const text = (value: string): Uint8Array => utf8.encode(value)

/** A JSON reply's envelope: `{ requestId, cmd, message }`. */
function jsonReply(reply: Reply): { cmd: string; message: Record<string, unknown> } {
  expect(reply.format).toBe('json')
  return parseJson(new TextDecoder().decode(reply.bytes)) as {
    cmd: string
    message: Record<string, unknown>
  }
}

/** The wire error of a reply in either encoding. */
function errorOf(reply: Reply): { Code: string; Items: string; Description: string } {
  if (reply.format === 'json') {
    const { cmd, message } = jsonReply(reply)
    expect(cmd).toBe('Error')
    return message as { Code: string; Items: string; Description: string }
  }
  const envelope: Envelope = decodeEnvelope(reply.bytes)
  expect(envelope.ctor).toBe(C_Error)
  return rony.Error.decode(envelope.message) as unknown as {
    Code: string
    Items: string
    Description: string
  }
}

describe('REST routes of a generated service', () => {
  it('hands the gateways each rony_rest with its parameters resolved as Go resolves them', async () => {
    const { driver, edge } = await shop()
    expect(driver.routes).toEqual([
      {
        method: 'GET',
        path: '/items/:id',
        cmd: 'Shop.GetItem',
        pathParams: [{ param: 'id', field: 'ItemId' }],
        queryParams: [
          { param: 'verbose', field: 'Verbose' },
          { param: 'category', field: 'Category' },
          { param: 'limit', field: 'Limit' },
          { param: 'big', field: 'Big' },
          { param: 'price', field: 'Price' },
          { param: 'blob', field: 'Blob' },
        ],
        encoding: 'json',
      },
      {
        method: 'PUT',
        path: '/items/:Name',
        cmd: 'Shop.PutItem',
        // An unbound path parameter fills the field of its own name; the query only binds.
        pathParams: [{ param: 'Name', field: 'Name' }],
        queryParams: [{ param: 'id', field: 'ItemId' }],
        encoding: 'binary',
      },
      {
        method: 'POST',
        path: '/search/:Random',
        cmd: 'Shop.Search',
        pathParams: [{ param: 'Random', field: 'RandomText' }],
        // `search_text`, as the .proto (and Go) spell it, is protobufjs' `searchText`.
        queryParams: [{ param: 'q', field: 'searchText' }],
        encoding: 'json',
      },
      {
        method: 'POST',
        path: '/items/:id',
        cmd: 'Shop.UpdateItem',
        pathParams: [{ param: 'id', field: 'ItemId' }],
        queryParams: [{ param: 'verbose', field: 'Verbose' }],
        encoding: 'json',
      },
    ])
    expect(edge.restRoutes()).toEqual(driver.routes)
  })

  it('runs a call under C_<Service><Method>, with URL values converted to the field types', async () => {
    const { driver, ctors } = await shop()
    const reply = await driver.call(
      driver.route('GET', '/items/:id'),
      text('{"Name":"saw","Verbose":true,"Tags":["a"]}'),
      {
        ItemId: '9007199254740993',
        Verbose: 'false',
        Category: 'BOOK',
        Limit: '-7',
        Big: '18446744073709551615',
        Price: '1.5e2',
        Blob: 'hé',
      },
    )
    expect(ctors).toEqual([C_ShopGetItem])
    const { cmd, message } = jsonReply(reply)
    expect(cmd).toBe('Item')
    expect(message).toEqual({
      ItemId: '9007199254740993', // protobuf JSON writes 64-bit integers as strings
      Name: 'saw',
      // "false" from the query is false, over the body's true (default, so left out).
      Category: 'BOOK',
      Limit: -7,
      Big: '18446744073709551615',
      Price: 150,
      Blob: Buffer.from('hé').toString('base64'),
      Tags: ['a'],
      Text: 'get',
    })
  })

  it('reads enum values by number too, and "true" as true', async () => {
    const { driver } = await shop()
    const reply = await driver.call(driver.route('GET', '/items/:id'), NO_BODY, {
      ItemId: '1',
      Category: '2',
      Verbose: 'true',
    })
    expect(jsonReply(reply).message).toMatchObject({ Category: 'TOOL', Verbose: true })
  })

  it('merges URL values into a binary body and answers in binary protobuf', async () => {
    const { driver, ctors } = await shop()
    const body = ItemRequest.encode({ Name: 'body', Tags: ['x', 'y'], Price: 2 }).finish()
    const reply = await driver.call(driver.route('PUT', '/items/:Name'), body, {
      Name: 'bolt',
      ItemId: '-9007199254740993',
    })
    expect(ctors).toEqual([C_ShopPutItem])
    expect(reply.format).toBe('binary')
    const envelope = decodeEnvelope(reply.bytes)
    const item = Item.decode(envelope.message)
    expect(item.Name).toBe('bolt')
    expect(String(item.ItemId)).toBe('-9007199254740993')
    expect(item.Tags).toEqual(['x', 'y'])
    expect(item.Price).toBe(2)
    expect(item.Text).toBe('put')
  })

  it('takes a binary body as it is when no value is bound, and an empty body as an empty message', async () => {
    const { driver } = await shop()
    const body = ItemRequest.encode({ Name: 'as is', Limit: 3 }).finish()
    const route = driver.route('PUT', '/items/:Name')
    const whole = Item.decode(decodeEnvelope((await driver.call(route, body)).bytes).message)
    expect(whole).toMatchObject({ Name: 'as is', Limit: 3 })
    const empty = Item.decode(decodeEnvelope((await driver.call(route, NO_BODY)).bytes).message)
    expect(empty).toMatchObject({ Name: '', Text: 'put' })
  })

  it('binds a path parameter to another field, and a snake_case field by its .proto name', async () => {
    const { driver, ctors } = await shop()
    const reply = await driver.call(driver.route('POST', '/search/:Random'), NO_BODY, {
      RandomText: 'r',
      searchText: 'q',
    })
    expect(ctors).toEqual([C_ShopSearch])
    expect(jsonReply(reply).message).toEqual({ Text: 'r|q' })
  })
})

describe('REST requests the edge refuses', () => {
  const getItem = async (values: Record<string, string>, body = NO_BODY) => {
    const { driver, ctors } = await shop()
    const reply = await driver.call(driver.route('GET', '/items/:id'), body, values)
    expect(ctors).toEqual([]) // no handler ran
    return errorOf(reply)
  }

  it.each([
    ['ItemId', '12abc', 'PARAM', /path parameter :id: "12abc" is not an integer/],
    ['ItemId', '', 'PARAM', /is not an integer/],
    ['ItemId', '9223372036854775808', 'MESSAGE', /ItemId/],
    ['Big', '-1', 'MESSAGE', /Big/],
    ['Big', '18446744073709551616', 'MESSAGE', /Big/],
    ['Limit', '12abc', 'PARAM', /query parameter limit: "12abc" is not a number/],
    ['Limit', '2147483648', 'MESSAGE', /Limit/],
    ['Limit', '1.5', 'MESSAGE', /Limit/],
    ['Limit', '0x10', 'PARAM', /is not a number/],
    ['Price', '1e999', 'PARAM', /is not a number/],
    ['Price', 'NaN', 'PARAM', /is not a number/],
    ['Verbose', 'yes', 'PARAM', /is not true or false/],
    ['Verbose', 'False', 'PARAM', /is not true or false/],
    ['Category', 'BOGUS', 'MESSAGE', /Category: invalid value "BOGUS"/],
    ['Category', '__proto__', 'MESSAGE', /Category: invalid value/],
    ['Category', '99999999999', 'PARAM', /is out of range/],
  ])('%s = %j is E01/%s', async (field, value, items, description) => {
    const error = await getItem({ ItemId: '1', [field]: value })
    expect(error).toMatchObject({ Code: 'E01', Items: items })
    expect(error.Description).toMatch(description)
  })

  it.each([
    ['not JSON', 'BODY', '{"Name":', /not valid JSON/],
    ['a JSON array', 'BODY', '[1,2]', /must be a JSON object/],
    ['a JSON string', 'BODY', '"x"', /must be a JSON object/],
    ['an unknown field', 'MESSAGE', '{"Nope":1}', /Nope: no such field/],
    ['a __proto__ key', 'MESSAGE', '{"__proto__":{"polluted":true}}', /__proto__: no such field/],
    ['a constructor key', 'MESSAGE', '{"constructor":{"prototype":{}}}', /no such field/],
    ['a wrong type', 'MESSAGE', '{"Limit":"many"}', /Limit/],
    ['an enum name the enum lacks', 'MESSAGE', '{"Category":"BOGUS"}', /Category/],
    ['a huge number', 'MESSAGE', '{"Limit":1e400}', /Limit/],
    // The parser or the converter runs out of stack first, depending on the stack left.
    [
      'nested 100 000 deep',
      'BODY|MESSAGE',
      `{"Tags":${'['.repeat(100_000)}${']'.repeat(100_000)}}`,
      /./,
    ],
  ])('a JSON body that is %s is E01/%s', async (_what, items, body, description) => {
    const error = await getItem({ ItemId: '1' }, text(body))
    expect(error.Code).toBe('E01')
    expect(error.Items).toMatch(new RegExp(`^(${items})$`))
    expect(error.Description).toMatch(description)
    expect(({} as { polluted?: unknown }).polluted).toBeUndefined()
  })

  it('a JSON body that is not UTF-8 is E01/BODY', async () => {
    const error = await getItem({ ItemId: '1' }, new Uint8Array([0x7b, 0xff, 0x7d]))
    expect(error).toMatchObject({ Code: 'E01', Items: 'BODY' })
  })

  it('a binary body that is not the message is E01, merged or not', async () => {
    const { driver, ctors } = await shop()
    const route = driver.route('PUT', '/items/:Name')
    const garbage = new Uint8Array([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f])
    expect(errorOf(await driver.call(route, garbage, { Name: 'n' }))).toMatchObject({
      Code: 'E01',
      Items: 'BODY',
    })
    expect(errorOf(await driver.call(route, garbage))).toMatchObject({ Code: 'E01' })
    expect(ctors).toEqual([])
  })

  it('refuses a route it does not serve, and a value for a field the route does not bind', async () => {
    const { driver } = await shop()
    const route = driver.route('GET', '/items/:id')
    const unknown = await driver.call({ ...route, path: '/elsewhere' }, NO_BODY)
    expect(errorOf(unknown)).toMatchObject({ Code: 'E01', Items: 'ROUTE' })
    const stray = await driver.call(route, NO_BODY, { Tags: 'x' })
    expect(errorOf(stray)).toMatchObject({ Code: 'E01', Items: 'PARAM' })
  })

  it('keeps serving after bad requests', async () => {
    const { driver } = await shop()
    const route = driver.route('GET', '/items/:id')
    await driver.call(route, text('{'), { ItemId: 'x' })
    const ok = await driver.call(route, NO_BODY, { ItemId: '5' })
    expect(jsonReply(ok).message).toMatchObject({ ItemId: '5' })
  })
})

describe('REST bindings checked at registration', () => {
  const getItem = Shop.methods.getItem
  /** Shop with getItem's rony_rest replaced. */
  const withRest = (rest: Record<string, unknown>) => ({
    ...Shop,
    methods: {
      ...Shop.methods,
      getItem: {
        ...getItem,
        options: { ...getItem.options, rest: { ...getItem.options.rest, ...rest } },
      },
    },
  })
  const none = () => Item.create()
  const impl = { getItem: none, updateItem: none, putItem: none, search: none }
  const register = (rest: Record<string, unknown>) => () =>
    createEdge({ id: 'n1', gateways: [memoryGateway()], logger: silentLogger }).service(
      withRest(rest) as typeof Shop,
      impl,
      { byRequestType: false },
    )

  it.each([
    [{ bindQueryParams: ['q=Nope'] }, /Shop.GetItem: query parameter q names no field Nope/],
    [{ bindPathParams: ['other=Name'] }, /bindPathParams: the path \/items\/:id has no :other/],
    [{ bindPathParams: [] }, /path parameter :id names no field id/],
    [{ bindQueryParams: ['tags=Tags'] }, /field Tags .* is not a scalar/],
    [{ bindQueryParams: ['a=Name', 'b=Name'] }, /field Name is bound twice/],
    [{ bindQueryParams: ['id2=ItemId'] }, /field ItemId is bound twice/],
    [{ bindQueryParams: ['q=Name', 'q=Limit'] }, /q is bound twice/],
    [{ bindQueryParams: ['Name'] }, /expected 'param=Field', got "Name"/],
    [{ path: '/items/:id/:id' }, /:id appears twice/],
    [{ method: 'FETCH' }, /method must be one of/],
  ])('%j is refused', (rest, message) => {
    expect(register(rest)).toThrow(TypeError)
    expect(register(rest)).toThrow(message)
  })

  it.each(['items/:id', '/items/:id/', '//items/:id//'])(
    'reads the rony_rest path %j as Go does: /items/:id',
    (path) => {
      const edge = createEdge({ id: 'n1', gateways: [memoryGateway()], logger: silentLogger })
      edge.service(withRest({ path }) as typeof Shop, impl, { byRequestType: false })
      expect(edge.restRoutes()[0]?.path).toBe('/items/:id')
    },
  )

  it('refuses two methods on one route', () => {
    const edge = createEdge({ id: 'n1', gateways: [memoryGateway()], logger: silentLogger })
    expect(() =>
      edge.service(
        withRest({ method: 'PUT', path: '/items/:Name', bindPathParams: [] }) as typeof Shop,
        impl,
        { byRequestType: false },
      ),
    ).toThrow(/PUT \/items\/:Name is already the route of Shop.GetItem/)
  })

  it('answers an error a handler throws with its code, in the route encoding', async () => {
    const driver = new RestDriver()
    const edge = createEdge({ id: 'n1', gateways: [driver], logger: silentLogger })
    edges.push(edge)
    const putItem = () => {
      throw new RonyError('E07', 'ITEM', 'not yours')
    }
    edge.service(Shop, { ...impl, putItem }, { byRequestType: false })
    await edge.start()
    const reply = await driver.call(driver.route('PUT', '/items/:Name'), NO_BODY, { Name: 'x' })
    expect(reply.format).toBe('binary')
    expect(errorOf(reply)).toMatchObject({ Code: 'E07', Items: 'ITEM' })
  })
})
