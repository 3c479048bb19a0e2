/**
 * The embedded default's AVA: polite canned answers, and recognition of "I want a person".
 * Production points AI_RESPONDER_URL at a real service (HttpAiResponder).
 *
 * The matcher is a handful of word lists (English, Spanish, German, French, Italian — hotel
 * guests), applied per clause (split at punctuation) to words that are lowercased and stripped
 * of accents ("recepción" = "recepcion"). A clause asks for a person when
 *
 *   1. a verb of contact or wanting is followed by a person, with only small words between:
 *      "talk to a real person", "quiero hablar con el gerente", "parler à quelqu'un",
 *      "ich brauche einen echten Menschen". A role or a human ("manager", "agente") may follow
 *      a verb of wanting ("I need an agent"); a mere "someone" only a verb of contact ("talk
 *      to someone", not "I need someone to carry my bags"). Verbs of handing over count only
 *      next to "me" ("get me a manager", "passez-moi la réception", not "get to reception");
 *   2. a person is followed by a German clause-final contact verb ("mit jemandem sprechen"),
 *      or a "someone" by a contact verb within three words ("someone I can talk to");
 *   3. the clause is just a role or a human, perhaps with "please": "Receptionist?", "human please".
 *
 * A negation within three words before the match ("no agent needed", "I don't need a human",
 * "je ne veux parler à personne", "ich möchte nicht mit einem Mitarbeiter sprechen") cancels
 * it. A person word without such a frame ("I am not an agent of chaos", "the receptionist was
 * friendly", "does the staff speak Spanish?") is not a request.
 */
import type { AiResponder, AiResponse } from '../../application/ports/ai-responder.js';

const words = (list: string) => new Set(list.split(/\s+/).filter(Boolean));

/** Roles and humans: a request after a verb of contact or of wanting, or alone. */
const PERSONS = [
  // en
  'human humans person agent agents operator representative manager managers receptionist receptionists reception',
  'staff personnel employee employees concierge colleague "front desk"',
  // es
  'humano humanos persona personas agente agentes operador operadora gerente encargado encargada recepcionista recepcion empleado',
  'empleada "el personal" "al personal" "del personal"',
  // de
  'mensch menschen person agenten mitarbeiter mitarbeiterin mitarbeitenden rezeption rezeptionist rezeptionistin empfang',
  '"dem personal" "das personal" "vom personal"',
  // fr
  'humain humains personne conseiller conseillere responsable gerant gerante directeur receptionniste accueil employe "le personnel" "au personnel"',
  // it
  'umano umani operatore operatrice addetto addetta responsabile direttore receptionista personale dipendente',
];
/** "Someone": a request only after a verb of contact. */
const ANYONE = ['someone somebody anyone anybody alguien jemand jemandem jemanden "quelqu un" qualcuno'];

/** Verbs of contact: talk, speak, connect, transfer. */
const CONTACT = words(`
  speak talk chat contact reach connect transfer
  hablar hablo comunicar comunicarme contactar conectar pasame
  sprechen reden verbinden verbunden kontaktieren erreichen
  parler discuter contacter joindre
  parlare contattare passami
`);
/** Verbs of handing over count as contact only next to "me": "get me a manager", "passez-moi la réception", not "get to reception". */
const HAND_OVER = words('get give put find pasa pase pasas pasen pasar passer passez passe passare passi passa');
const ME = words('me moi mi m us nos');
/** Verbs of wanting: enough before a role or a human ("I need an agent"), not before "someone". */
const WANT = words(`
  want need like prefer request
  quiero quisiera necesito querria
  mochte brauche hatte gerne
  veux voudrais besoin souhaite aimerais
  voglio vorrei bisogno desidero
`);
/** German puts the verb last: "mit einem Menschen sprechen". */
const CLAUSE_FINAL = words('sprechen reden verbinden verbunden');
/** Small words allowed between the verb and the person. */
const FILLERS = words(`
  to with a an the some real actual live your one of me through please
  a al con el la los las un una uno unos real verdadero verdadera su me
  mit zu einem einer einen ein eine dem der den die das echten echte echtem richtigen ihrem ihrer ihren sie mich bitte von
  a au aux avec un une le la l les du de des d vrai vraie votre vos moi m
  a al alla allo con un uno una il lo la l gli le del della di vero vera vostro vostra mi
`);
/** What may stand next to a lone person word: "Human please", "¿Recepción, por favor?". */
const POLITE = words(`
  please pls por favor bitte s il vous plait per favore hi hello hola hallo bonjour ciao
  a an the un una el la le il der die
`);
const NEGATIONS = words(`
  not no never without cannot nunca sin ningun ninguna nicht kein keine keinen keinem keiner nie ohne
  ne n pas jamais sans non mai senza nessun nessuno
`);

const phrases = (lists: string[]) =>
  lists
    .flatMap((list) => list.match(/"[^"]+"|\S+/g) ?? [])
    .map((p) => p.replace(/"/g, '').split(' '))
    .sort((a, b) => b.length - a.length); // longest first
const PERSON_PHRASES = phrases(PERSONS);
const ANYONE_PHRASES = phrases(ANYONE);

/** Lowercase, no accents, "n't" as "not", split into clauses of words. */
function clauses(text: string): string[][] {
  return text
    .normalize('NFD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .replace(/ß/g, 'ss')
    .replace(/[’‘`´]/g, "'")
    .replace(/n't\b/g, ' not')
    .split(/[.,;:!?¡¿()"\n]+/)
    .map((clause) => clause.split(/[^\p{L}\p{N}]+/u).filter(Boolean))
    .filter((clause) => clause.length > 0);
}

function phraseAt(tokens: string[], i: number, list: string[][]): number {
  for (const phrase of list) if (phrase.every((word, k) => tokens[i + k] === word)) return phrase.length;
  return 0;
}

const negated = (tokens: string[], from: number, to: number) => tokens.slice(Math.max(0, from), to).some((t) => NEGATIONS.has(t));

function clauseAsks(tokens: string[]): boolean {
  for (let i = 0; i < tokens.length; i++) {
    const personLength = phraseAt(tokens, i, PERSON_PHRASES);
    const anyoneLength = personLength ? 0 : phraseAt(tokens, i, ANYONE_PHRASES);
    const length = personLength || anyoneLength;
    if (!length) continue;
    const end = i + length;

    // 1. verb … person
    let j = i - 1;
    while (j >= 0 && FILLERS.has(tokens[j]!)) j--;
    const verb = tokens[j] ?? '';
    const contact = CONTACT.has(verb) || (HAND_OVER.has(verb) && (ME.has(tokens[j - 1] ?? '') || ME.has(tokens[j + 1] ?? '')));
    if ((contact || (personLength > 0 && WANT.has(verb))) && !negated(tokens, j - 3, i)) return true;

    // 2. person … clause-final contact verb; "someone" … contact verb
    let k = end;
    while (k < tokens.length && FILLERS.has(tokens[k]!)) k++;
    if (k < tokens.length && CLAUSE_FINAL.has(tokens[k]!) && !negated(tokens, i - 3, k)) return true;
    if (anyoneLength > 0) {
      const later = tokens.slice(end, end + 3).findIndex((t) => CONTACT.has(t));
      if (later >= 0 && !negated(tokens, i - 3, end + later)) return true;
    }

    // 3. just a person
    if (personLength > 0 && tokens.every((t, n) => (n >= i && n < end) || POLITE.has(t))) return true;
  }
  return false;
}

export function asksForAPerson(text: string): boolean {
  return clauses(text).some(clauseAsks);
}

export class BuiltinAiResponder implements AiResponder {
  async respond(input: { guestName: string; text: string }): Promise<AiResponse> {
    if (asksForAPerson(input.text)) return { kind: 'support_request' };
    return {
      kind: 'reply',
      text: `Thank you, ${input.guestName}! I'm AVA, the hotel's assistant. I've noted your message and I'm happy to help — ask me anything about your stay, or ask for a person at any time.`,
    };
  }
}
