/** The texts users read when a business rule refuses a command: written once, here. */
export const messages = {
  notEnoughMoney: 'Not enough money on the account',
  accountNotOpen: 'The billing account does not exist',
  accountAlreadyOpen: 'The billing account already exists',
  emailTaken: (email: string) => `user with email "${email}" already exists`,
  userNotFound: 'Not found',
  userAlreadyRegistered: 'The user is already registered',
  wrongCredentials: 'email or password is incorrect',
  paymentDeclinedNotEnoughMoney: 'not enough money',
} as const;
