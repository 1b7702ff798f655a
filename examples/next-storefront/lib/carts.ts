/**
 * The example's own store: each shopper's cart, kept in the Next.js server's memory under the
 * user id of a verified access token (anonymous or customer). One process; a real shop keeps
 * carts in its database. Held on globalThis so every route bundle of the server shares it.
 */
export const PRODUCTS = [
  { sku: 'tea', name: 'Green tea', price: 6 },
  { sku: 'mug', name: 'Stoneware mug', price: 14 },
  { sku: 'honey', name: 'Forest honey', price: 9 },
] as const;

export type Sku = (typeof PRODUCTS)[number]['sku'];
type Cart = Map<Sku, number>;

const g = globalThis as { storefrontCarts?: Map<string, Cart> };
g.storefrontCarts ??= new Map();
const carts = g.storefrontCarts;

export function isSku(value: unknown): value is Sku {
  return PRODUCTS.some((p) => p.sku === value);
}

export function cartOf(userId: string): Array<{ sku: Sku; name: string; quantity: number }> {
  const cart = carts.get(userId);
  if (!cart) return [];
  return PRODUCTS.filter((p) => cart.has(p.sku)).map((p) => ({
    sku: p.sku,
    name: p.name,
    quantity: cart.get(p.sku)!,
  }));
}

export function addToCart(userId: string, sku: Sku): void {
  const cart = carts.get(userId) ?? new Map();
  cart.set(sku, (cart.get(sku) ?? 0) + 1);
  carts.set(userId, cart);
}

/**
 * A shopper signed in: the auth server carried their anonymous id into the customer session
 * (`anonymous_id`), so what they put in the cart before joins the customer's cart.
 */
export function mergeCart(fromUserId: string, toUserId: string): void {
  if (fromUserId === toUserId) return;
  const from = carts.get(fromUserId);
  if (!from) return;
  for (const [sku, quantity] of from) {
    const to = carts.get(toUserId) ?? new Map();
    to.set(sku, (to.get(sku) ?? 0) + quantity);
    carts.set(toUserId, to);
  }
  carts.delete(fromUserId);
}
