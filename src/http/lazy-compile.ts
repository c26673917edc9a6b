// Schema compilation on first use. Fastify asks for a validator per route part and a
// serializer per route status while it boots; compiling every one of them (Ajv code
// generation, fast-json-stringify builds) was a third of gmemd's start to /readyz, for routes
// most processes never serve. Each compiler here hands back a stand-in that compiles on its
// first call and then delegates, so a route costs its compile once, when first used.
// `compileAll()` builds whatever is still pending: tests call it so a schema that cannot
// compile fails a test, not a first request.
import type { FastifySchemaCompiler } from 'fastify';

type Validate = ((data: unknown, ctx?: unknown) => unknown) & { errors?: unknown; schemaEnv?: unknown };
type Serialize = (data: unknown) => string;

export class LazyCompilers {
  private readonly pending = new Set<() => unknown>();

  /** A validator compiler whose validators compile when first called. */
  validator<S>(compile: FastifySchemaCompiler<S>): FastifySchemaCompiler<S> {
    return (route) => {
      let f: Validate | undefined;
      const build = () => {
        f ??= compile(route) as unknown as Validate;
        this.pending.delete(build);
        return f;
      };
      this.pending.add(build);
      const v: Validate = (data, ctx) => {
        const g = f ?? build();
        const r = ctx === undefined ? g(data) : g(data, ctx);
        v.errors = g.errors;
        return r;
      };
      // Fastify passes the parent object (so Ajv can coerce or default a root value) only to a
      // function carrying schemaEnv, as Ajv's do: the stand-in always takes it and passes it on.
      v.schemaEnv = true;
      return v as unknown as ReturnType<FastifySchemaCompiler<S>>;
    };
  }

  /** A serializer compiler whose serializers compile when first called. */
  serializer<R>(compile: (route: R) => Serialize): (route: R) => Serialize {
    return (route) => {
      let f: Serialize | undefined;
      const build = () => {
        f ??= compile(route);
        this.pending.delete(build);
        return f;
      };
      this.pending.add(build);
      return (data) => (f ?? build())(data);
    };
  }

  /** Compiles everything not compiled yet; throws the first compile error. */
  compileAll(): number {
    const todo = [...this.pending];
    for (const build of todo) build();
    return todo.length;
  }
}
