/**
 * The built-in AVA's "does the guest ask for a person?" matcher, table-driven: common ways to
 * ask (English, Spanish, German, French, Italian — hotel guests), and messages that mention a
 * person without asking for one (negations, "agent of chaos", questions about staff).
 */
import { describe, expect, it } from '@jest/globals';
import { BuiltinAiResponder, asksForAPerson } from '../../src/adapters/ai/builtin-responder.js';

const asks: Array<[language: string, text: string]> = [
  ['en', 'I want to talk to a human'],
  ['en', 'Can I talk to someone?'],
  ['en', 'can i speak with somebody please'],
  ['en', 'I need to speak to a real person'],
  ['en', 'Let me talk to the manager'],
  ['en', 'I would like to speak with the manager, please.'],
  ['en', 'Get me a manager!'],
  ['en', 'Can I talk to a staff member?'],
  ['en', 'I want to speak to one of your staff'],
  ['en', 'Could you connect me with the receptionist?'],
  ['en', 'Put me through to reception please'],
  ['en', 'Transfer me to a live agent'],
  ['en', 'I need an agent'],
  ['en', 'Human please'],
  ['en', 'Receptionist?'],
  ['en', 'agent'],
  ['en', 'Is there someone I can talk to?'],
  ['en', "I'd like to chat with a person"],
  ['en', 'No, I want a human'],
  ['es', 'Quiero hablar con un humano'],
  ['es', '¿Puedo hablar con alguien?'],
  ['es', 'Necesito hablar con una persona real'],
  ['es', 'Quiero hablar con el gerente'],
  ['es', '¿Me pasa con recepción, por favor?'],
  ['es', 'Quisiera hablar con el personal del hotel'],
  ['es', 'Necesito un agente'],
  ['de', 'Ich möchte mit einem Menschen sprechen'],
  ['de', 'Kann ich bitte mit jemandem sprechen?'],
  ['de', 'Ich will mit dem Manager reden'],
  ['de', 'Verbinden Sie mich bitte mit der Rezeption'],
  ['de', 'Kann ich mit einem Mitarbeiter sprechen?'],
  ['de', 'Ich brauche einen echten Menschen'],
  ['fr', 'Je veux parler à un humain'],
  ['fr', "Je voudrais parler à quelqu'un"],
  ['fr', 'Puis-je parler au responsable ?'],
  ['fr', 'Passez-moi la réception, s’il vous plaît'],
  ['fr', 'Je voudrais parler à une vraie personne'],
  ['fr', "J'ai besoin d'un conseiller"],
  ['it', 'Vorrei parlare con un operatore'],
  ['it', 'Posso parlare con qualcuno?'],
  ['it', 'Voglio parlare con il responsabile'],
  ['it', 'Mi passi la reception, per favore'],
  ['it', 'Vorrei parlare con una persona vera'],
  ['it', 'Ho bisogno di un operatore umano'],
];

const doesNotAsk: Array<[language: string, text: string]> = [
  ['en', 'I am not an agent of chaos'],
  ['en', "I'm an agent of chaos"],
  ['en', 'No agent needed, thanks'],
  ['en', "I don't need a human, you're doing great"],
  ['en', "I don't want to talk to anyone, just tell me the wifi password"],
  ['en', 'My travel agent booked this room'],
  ['en', 'The receptionist was very friendly'],
  ['en', 'What time does reception open?'],
  ['en', 'Can I get towels from reception?'],
  ['en', 'I need a room for one person'],
  ['en', 'Does the staff speak Spanish?'],
  ['en', 'Are you a human?'],
  ['en', 'Can someone bring me extra pillows?'],
  ['en', 'I need someone to carry my bags'],
  ['en', 'Humanity is great'],
  ['en', 'What is the check-out time?'],
  ['en', 'How do I get to reception?'],
  ['en', 'I can see the reception from my room'],
  ['en', 'Will reception be open tomorrow?'],
  ['en', 'I want people to know how nice the pool is'],
  ['es', 'No necesito un agente, gracias'],
  ['es', 'El recepcionista fue muy amable'],
  ['es', '¿A qué hora abre la recepción?'],
  ['es', 'Pasa a la recepción a recoger la llave'],
  ['de', 'Ich brauche keinen Menschen, danke'],
  ['de', 'Ich möchte nicht mit einem Mitarbeiter sprechen'],
  ['de', 'Wann ist die Rezeption geöffnet?'],
  ['fr', "Je n'ai pas besoin d'un conseiller"],
  ['fr', 'Je ne veux parler à personne'],
  ['fr', "Il n'y a personne à la réception ?"],
  ['fr', 'Je passe à la réception demain'],
  ['it', 'Non ho bisogno di un operatore'],
  ['it', 'Il personale è stato gentilissimo'],
  ['it', "A che ora apre la reception?"],
];

describe('asksForAPerson', () => {
  it.each(asks)('[%s] %p asks for a person', (_language, text) => {
    expect(asksForAPerson(text)).toBe(true);
  });

  it.each(doesNotAsk)('[%s] %p does not', (_language, text) => {
    expect(asksForAPerson(text)).toBe(false);
  });

  it('ignores case and accents (recepción, Rezeption, réception)', () => {
    for (const text of ['QUIERO HABLAR CON RECEPCION', 'quiero hablar con recepción', 'PARLER À LA RÉCEPTION', 'parler a la reception']) {
      expect({ text, asks: asksForAPerson(text) }).toEqual({ text, asks: true });
    }
  });
});

describe('BuiltinAiResponder', () => {
  it('raises a support request for a person, answers anything else', async () => {
    const ava = new BuiltinAiResponder();
    expect(await ava.respond({ guestName: 'Tom', text: 'Ich möchte mit einem Menschen sprechen' })).toEqual({ kind: 'support_request' });
    expect(await ava.respond({ guestName: 'Tom', text: 'I am not an agent of chaos' })).toMatchObject({ kind: 'reply' });
  });
});
