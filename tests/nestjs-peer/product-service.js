// A NestJS Product service, messaging side only: after saving an order it emits two
// order_created events through a NestJS RMQ ClientProxy, as that service does: first the short
// {orderId, customerId, amount}, then the saved order itself. The saved order (JSON) is the
// first argument; `--full-first` sends the two the other way round (a broker may deliver them
// so after a redelivery).
//
//   RABBITMQ_URL=... RABBITMQ_QUEUE=order_created node product-service.js '{"id":...}' [--full-first]
require('reflect-metadata');
const { ClientProxyFactory, Transport } = require('@nestjs/microservices');
const { lastValueFrom } = require('rxjs');

async function main() {
  const order = JSON.parse(process.argv[2]);
  const short = { orderId: order.id, customerId: order.customerId, amount: order.total };
  const messages = process.argv.includes('--full-first') ? [order, short] : [short, order];
  const client = ClientProxyFactory.create({
    transport: Transport.RMQ,
    options: {
      urls: [process.env.RABBITMQ_URL],
      queue: process.env.RABBITMQ_QUEUE ?? 'order_created',
      queueOptions: { durable: true },
    },
  });
  await client.connect();
  for (const data of messages) {
    await lastValueFrom(client.emit('order_created', data));
  }
  await client.close();
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
