export type EmployeeRole = 'agent' | 'admin';

export interface EmployeePrincipal {
  kind: 'employee';
  id: string;
  propertyId: string;
  role: EmployeeRole;
  name: string;
}

export interface GuestPrincipal {
  kind: 'guest';
  conversationId: string;
  propertyId: string;
  name: string;
}

export type Principal = EmployeePrincipal | GuestPrincipal;

/** `stream` tokens are short-lived, may travel in a query string, and open only SSE routes. */
export type TokenScope = 'api' | 'stream';
