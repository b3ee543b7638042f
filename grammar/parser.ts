import { CstParser, type CstNode } from 'chevrotain';
import {
  Colon,
  Comma,
  execFormTokens,
  False,
  LCurly,
  LSquare,
  Null,
  NumberLiteral,
  RCurly,
  RSquare,
  StringLiteral,
  True,
} from './tokens.ts';

/**
 * The exec-form grammar: one JSON array, whose elements may be any JSON value. Accepting
 * every value (not only strings) is deliberate: BuildKit treats `CMD ["a", 1]` as an error
 * ("arrays must be comprised of strings only") but `CMD [1` as shell form, so the parser
 * must tell "valid JSON, wrong element" from "not JSON". The CST keeps every token, so the
 * syntax layer can point at the offending element.
 *
 *   execForm := array
 *   array    := '[' (value (',' value)*)? ']'
 *   object   := '{' (member (',' member)*)? '}'
 *   member   := string ':' value
 *   value    := string | number | true | false | null | array | object
 *
 * Rules are class properties so that a misspelt SUBRULE does not compile. One instance is
 * reused (`parser.input = tokens` resets it); construction runs Chevrotain's self-analysis,
 * so it happens once, lazily, on the first exec form a process meets.
 */
export class ExecFormParser extends CstParser {
  constructor() {
    super([...execFormTokens], {
      recoveryEnabled: false,
      skipValidations: true,
    });
    this.performSelfAnalysis();
  }

  public execForm = this.RULE('execForm', () => {
    this.SUBRULE(this.array);
  });

  public array = this.RULE('array', () => {
    this.CONSUME(LSquare);
    this.MANY_SEP({ SEP: Comma, DEF: () => this.SUBRULE(this.value) });
    this.CONSUME(RSquare);
  });

  public object = this.RULE('object', () => {
    this.CONSUME(LCurly);
    this.MANY_SEP({ SEP: Comma, DEF: () => this.SUBRULE(this.member) });
    this.CONSUME(RCurly);
  });

  public member = this.RULE('member', () => {
    this.CONSUME(StringLiteral);
    this.CONSUME(Colon);
    this.SUBRULE(this.value);
  });

  public value = this.RULE('value', () => {
    this.OR([
      { ALT: () => this.CONSUME(StringLiteral) },
      { ALT: () => this.CONSUME(NumberLiteral) },
      { ALT: () => this.CONSUME(True) },
      { ALT: () => this.CONSUME(False) },
      { ALT: () => this.CONSUME(Null) },
      { ALT: () => this.SUBRULE(this.array) },
      { ALT: () => this.SUBRULE(this.object) },
    ]);
  });
}

export type { CstNode };
