// The seed's Product service, messaging side only: emits one order_created event through a NestJS
// RMQ ClientProxy, exactly as the seed's OrdersService does after saving an order. The saved
// order (JSON) is the first argument.
//
//   RABBITMQ_URL=... RABBITMQ_QUEUE=order_created node product-service.js '{"id":...}'
require('reflect-metadata');
const { ClientProxyFactory, Transport } = require('@nestjs/microservices');
const { lastValueFrom } = require('rxjs');

async function main() {
  const order = JSON.parse(process.argv[2]);
  const client = ClientProxyFactory.create({
    transport: Transport.RMQ,
    options: {
      urls: [process.env.RABBITMQ_URL],
      queue: process.env.RABBITMQ_QUEUE ?? 'order_created',
      queueOptions: { durable: true },
    },
  });
  await client.connect();
  await lastValueFrom(client.emit('order_created', order));
  await client.close();
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
