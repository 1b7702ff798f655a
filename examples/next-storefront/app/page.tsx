import { currentShopper } from '../lib/auth';
import { cartOf, PRODUCTS } from '../lib/carts';
import { addItem } from './actions';
import { LogOut } from './log-out';
import { SessionStatus } from './session-status';
import { SignIn } from './sign-in';

export const dynamic = 'force-dynamic';

/** A server component: reads the pair the proxy left (verified), never refreshes itself. */
export default async function Home() {
  const shopper = await currentShopper();
  const cart = shopper ? cartOf(shopper.userId) : [];
  return (
    <main>
      <h1>Storefront</h1>
      <SessionStatus />
      <p id="shopper">
        {shopper ? `${shopper.isCustomer ? 'customer' : 'anonymous'} ${shopper.userId}` : 'no session'}
      </p>
      {shopper?.email && <p id="email">{shopper.email}</p>}
      <section>
        <h2>Products</h2>
        <ul>
          {PRODUCTS.map((p) => (
            <li key={p.sku}>
              <form action={addItem}>
                {p.name}, {p.price} € <input type="hidden" name="sku" value={p.sku} />
                <button id={`add-${p.sku}`} type="submit">
                  Add to cart
                </button>
              </form>
            </li>
          ))}
        </ul>
      </section>
      <section>
        <h2>Cart</h2>
        <ul id="cart">
          {cart.length === 0 ? (
            <li>empty</li>
          ) : (
            cart.map((item) => (
              <li key={item.sku} data-sku={item.sku}>
                {item.name} × {item.quantity}
              </li>
            ))
          )}
        </ul>
      </section>
      {shopper?.isCustomer ? <LogOut /> : <SignIn />}
    </main>
  );
}
