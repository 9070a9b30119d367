// BERT's WordPiece tokenizer from a local vocab.txt (one token per line; id = line number):
// basic tokenisation (optional lower-casing and accent stripping, split on whitespace and
// punctuation, CJK characters on their own), then greedy longest-match sub-words with "##"
// continuations; a word that cannot be covered becomes [UNK].
import { readFileSync } from 'node:fs';

export interface Encoded {
  inputIds: number[];
  attentionMask: number[];
}

export interface WordPieceOptions {
  lowercase?: boolean;
  maxLength?: number;
  maxCharsPerWord?: number;
}

const isPunct = (ch: string) => /[\p{P}\p{S}]/u.test(ch) && !/[\p{Sc}]/u.test(ch) || /[!-/:-@[-`{-~]/.test(ch);
const isCjk = (ch: string) => /[\u4E00-\u9FFF\u3400-\u4DBF\uF900-\uFAFF\u{20000}-\u{2FA1F}]/u.test(ch);

export class WordPieceTokenizer {
  readonly vocab: Map<string, number>;
  readonly cls: number;
  readonly sep: number;
  readonly pad: number;
  readonly unk: number;
  private readonly lowercase: boolean;
  readonly maxLength: number;
  private readonly maxChars: number;

  constructor(tokens: string[], o: WordPieceOptions = {}) {
    this.vocab = new Map(tokens.map((t, i) => [t, i]));
    const need = (t: string) => {
      const id = this.vocab.get(t);
      if (id === undefined) throw new Error(`WordPiece vocabulary lacks the special token ${t}`);
      return id;
    };
    this.cls = need('[CLS]');
    this.sep = need('[SEP]');
    this.pad = need('[PAD]');
    this.unk = need('[UNK]');
    this.lowercase = o.lowercase ?? true;
    this.maxLength = o.maxLength ?? 128;
    this.maxChars = o.maxCharsPerWord ?? 100;
  }

  static fromFile(path: string, o: WordPieceOptions = {}): WordPieceTokenizer {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (e) {
      throw new Error(`${path}: cannot read WordPiece vocabulary: ${(e as Error).message}`);
    }
    const tokens = text.split(/\r?\n/);
    if (tokens[tokens.length - 1] === '') tokens.pop();
    return new WordPieceTokenizer(tokens, o);
  }

  /** Whitespace/punctuation split after normalisation. */
  basicTokens(text: string): string[] {
    let t = text.replace(/[\u0000\uFFFD]|[\p{Cc}]/gu, (c) => (/\s/.test(c) ? ' ' : ''));
    if (this.lowercase) t = t.toLowerCase().normalize('NFD').replace(/\p{Mn}/gu, '');
    const out: string[] = [];
    for (const word of t.split(/\s+/)) {
      let cur = '';
      for (const ch of word) {
        if (isPunct(ch) || isCjk(ch)) {
          if (cur) out.push(cur);
          out.push(ch);
          cur = '';
        } else cur += ch;
      }
      if (cur) out.push(cur);
    }
    return out;
  }

  wordPieces(word: string): number[] {
    const chars = [...word];
    if (chars.length > this.maxChars) return [this.unk];
    const ids: number[] = [];
    let start = 0;
    while (start < chars.length) {
      let end = chars.length;
      let found = -1;
      while (start < end) {
        const piece = (start > 0 ? '##' : '') + chars.slice(start, end).join('');
        const id = this.vocab.get(piece);
        if (id !== undefined) { found = id; break; }
        end--;
      }
      if (found < 0) return [this.unk];
      ids.push(found);
      start = end;
    }
    return ids;
  }

  /** [CLS] pieces [SEP], truncated to maxLength. */
  encode(text: string): Encoded {
    const pieces = this.basicTokens(text).flatMap((w) => this.wordPieces(w)).slice(0, this.maxLength - 2);
    const inputIds = [this.cls, ...pieces, this.sep];
    return { inputIds, attentionMask: inputIds.map(() => 1) };
  }
}
